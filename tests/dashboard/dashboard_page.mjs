// The dashboard page in Debian's headless Chromium, driven by playwright-core, against a running
// tiercached (started by dashboard_test.cpp, which passes its URL and admin token):
//   1. the page loads and refreshes with no console error and no failed request;
//   2. every chart is drawn from the history (points on each);
//   3. hits, misses and hit rate per namespace match GET /v1/stats within one refresh while a
//      small load runs, and exactly once it stops;
//   4. clearing a namespace is refused without a token (disabled, and 401 from the API) and with
//      a wrong one, does nothing when the confirmation is cancelled, and works with the token
//      after it is confirmed; the token never appears in a URL;
//   5. screenshots at laptop size, and at phone size with no horizontal scrolling.
// Usage: node dashboard_page.mjs --url http://127.0.0.1:PORT --token T --chromium /usr/bin/chromium
//        --artifacts DIR [--docs-screenshot FILE]
// Exits 0 when every check passed; otherwise prints what failed and exits 1.
import {chromium} from 'playwright-core';
import {mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const required of ['url', 'token', 'chromium', 'artifacts']) {
  if (!args[required]) {
    console.error(`dashboard_page.mjs: --${required} is required`);
    process.exit(2);
  }
}
const base = args.url.replace(/\/$/, '');
mkdirSync(args.artifacts, {recursive: true});

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const guard = setTimeout(() => {
  console.error('dashboard_page.mjs: gave up after 120 s');
  process.exit(1);
}, 120_000);

async function api(method, path, {body, token} = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(base + path, {method, headers, body});
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return {status: res.status, json, text};
}

// A small, bounded load: at most `count` requests, a few milliseconds apart, until stopped.
function startLoad(count) {
  let stop = false;
  const done = (async () => {
    for (let i = 0; i < count && !stop; i++) {
      // Writes to users, reads of them (hits once written), and reads of flights/k0..k149, of
      // which dashboard_test.cpp wrote every third below k120 (hits) and none above (misses).
      if (i % 5 === 0) await api('PUT', `/v1/cache/users/live${i % 20}`, {body: JSON.stringify({i})});
      else if (i % 2 === 0) await api('GET', `/v1/cache/users/live${i % 20}`);
      else await api('GET', `/v1/cache/flights/k${(i * 3) % 150}`);
      await sleep(15);
    }
  })();
  return {stop: async () => {
    stop = true;
    await done;
  }};
}

// What the page shows for each namespace: counts and the hit rate's text.
async function shownNamespaces(page) {
  return page.$$eval('#ns-table tbody tr', (rows) => rows.map((tr) => {
    const cell = (f) => tr.querySelector(`[data-field="${f}"]`).textContent;
    const int = (f) => Number(cell(f).replace(/,/g, ''));
    return {ns: tr.dataset.ns, hits: int('hits'), misses: int('misses'), errors: int('errors'),
            hitRate: cell('hit_rate')};
  }));
}
const pct = (r) => (r * 100).toFixed(1) + '%';
const updates = (page) => page.evaluate(() => Number(document.body.dataset.updates || 0));
async function nextRefresh(page) {
  const now = await updates(page);
  await page.waitForFunction((n) => Number(document.body.dataset.updates || 0) > n, now,
                             {timeout: 10_000});
}

const browser = await chromium.launch({executablePath: args.chromium, headless: true});
let exitCode = 1;
try {
  // ---- laptop ------------------------------------------------------------------------------
  const context = await browser.newContext({viewport: {width: 1440, height: 900}});
  const page = await context.newPage();
  const consoleErrors = [];
  const failedRequests = [];
  const urls = [];
  let expect401 = false;
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expect401 && /status of 401/.test(m.text())) return;  // the refusal this test asks for
    consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('request', (r) => urls.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400 && !(expect401 && r.status() === 401)) failedRequests.push(`${r.url()}: HTTP ${r.status()}`);
  });

  const load = startLoad(600);
  await page.goto(base + '/', {waitUntil: 'load'});
  await page.waitForFunction(() => Number(document.body.dataset.updates || 0) >= 2, null, {timeout: 15_000});
  check(await page.title() === 'tiercache dashboard', 'the page is served at / with its title');

  // Charts: every one drawn, with points from the history.
  await page.waitForFunction(() => [...document.querySelectorAll('.plot')].every((p) => p.querySelector('svg')),
                             null, {timeout: 10_000});
  for (const id of ['chart-hit-rate', 'chart-tiers', 'chart-ops', 'chart-latency', 'chart-l1', 'chart-redis',
                    'chart-evictions', 'chart-limits']) {
    await page.waitForFunction((i) => Number(document.querySelector(`#${i} .plot`).dataset.points || 0) > 0, id,
                               {timeout: 15_000}).catch(() => {});
    const points = await page.$eval(`#${id} .plot`, (p) => Number(p.dataset.points || 0));
    const paths = await page.$$eval(`#${id} .plot svg path.series`, (ps) => ps.length);
    check(points > 0 && paths > 0, `chart ${id} is drawn (${paths} line(s), ${points} point(s))`);
  }
  const badge = await page.$eval('#status-badge', (b) => b.dataset.status);
  check(['healthy', 'degraded', 'unhealthy'].includes(badge), `the status badge says ${badge}`);

  // Numbers under load: between /v1/stats before and after the refresh that drew them.
  const before = (await api('GET', '/v1/stats')).json;
  await nextRefresh(page);
  const shown = await shownNamespaces(page);
  const after = (await api('GET', '/v1/stats')).json;
  for (const ns of ['users', 'flights']) {
    const row = shown.find((r) => r.ns === ns);
    const b = before.namespaces[ns];
    const a = after.namespaces[ns];
    check(row !== undefined, `namespace ${ns} is listed`);
    if (!row) continue;
    check(b.hits <= row.hits && row.hits <= a.hits, `${ns}: hits shown ${row.hits} within /v1/stats ${b.hits}..${a.hits}`);
    check(b.misses <= row.misses && row.misses <= a.misses,
          `${ns}: misses shown ${row.misses} within /v1/stats ${b.misses}..${a.misses}`);
    const own = row.hits / (row.hits + row.misses + row.errors);
    check(row.hitRate === pct(own), `${ns}: hit rate shown ${row.hitRate} is that of its counts (${pct(own)})`);
  }
  if (args['docs-screenshot']) {
    // The README's picture: laptop size, the first screen, while the load runs.
    mkdirSync(dirname(args['docs-screenshot']), {recursive: true});
    await page.screenshot({path: args['docs-screenshot'], fullPage: false});
  }
  await load.stop();

  // At rest: exactly /v1/stats.
  await nextRefresh(page);
  await nextRefresh(page);
  const still = await shownNamespaces(page);
  const stats = (await api('GET', '/v1/stats')).json;
  for (const row of still) {
    const s = stats.namespaces[row.ns];
    check(s && row.hits === s.hits && row.misses === s.misses && row.hitRate === pct(s.hit_rate),
          `${row.ns}: at rest the page shows /v1/stats (${row.hits} hits, ${row.misses} misses, ${row.hitRate})`);
  }
  const kpi = await page.$eval('#kpi-hit-rate', (e) => e.textContent);
  check(kpi === pct(stats.hit_rate), `overall hit rate ${kpi} is /v1/stats's ${pct(stats.hit_rate)}`);
  check(consoleErrors.length === 0, `no console error while loading and refreshing (${consoleErrors.join(' | ')})`);
  check(failedRequests.length === 0, `no failed request (${failedRequests.join(' | ')})`);

  await page.screenshot({path: join(args.artifacts, 'dashboard-laptop.png'), fullPage: true});

  // ---- admin: clear a namespace ------------------------------------------------------------
  const probe = '/v1/cache/users/admin-probe';
  check((await api('PUT', probe, {body: '"keep me"'})).status === 204, 'a probe key is stored in users');
  check(await page.isDisabled('#clear-btn'), 'without a token the page offers no clear');
  const bare = await api('POST', '/v1/admin/namespaces/users/clear');
  check(bare.status === 401, `without a token the API refuses the clear (${bare.status})`);

  expect401 = true;
  await page.fill('#token-input', 'not-the-token');
  await page.click('#token-save');
  await page.selectOption('#clear-ns', 'users');
  await page.click('#clear-btn');
  await page.waitForSelector('#confirm-dialog[open]', {timeout: 5_000});
  await page.click('#confirm-ok');
  await page.waitForSelector('#admin-result[data-outcome="refused"]', {timeout: 5_000});
  const refusedText = await page.textContent('#admin-result');
  check(/refused/.test(refusedText), `a wrong token is refused: "${refusedText}"`);
  check((await api('GET', probe)).status === 200, 'after the refusal the probe key is still there');
  expect401 = false;

  await page.fill('#token-input', args.token);
  await page.click('#token-save');
  await page.click('#clear-btn');
  await page.waitForSelector('#confirm-dialog[open]', {timeout: 5_000});
  const question = await page.textContent('#confirm-text');
  check(/users/.test(question), `the confirmation names the namespace: "${question}"`);
  await page.click('#confirm-cancel');
  await page.waitForFunction(() => /cancelled/.test(document.querySelector('#admin-result').textContent),
                             null, {timeout: 5_000});
  check((await api('GET', probe)).status === 200, 'cancelling the confirmation clears nothing');

  await page.click('#clear-btn');
  await page.waitForSelector('#confirm-dialog[open]', {timeout: 5_000});
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /^Cleared/.test(document.querySelector('#admin-result').textContent),
                             null, {timeout: 5_000});
  check((await api('GET', probe)).status === 404, 'with the token and the confirmation the namespace is cleared');

  const stored = await page.evaluate(() => sessionStorage.getItem('tiercache.adminToken'));
  check(stored === args.token, 'the token is kept in the tab\'s sessionStorage');
  check(!urls.some((u) => u.includes(args.token) || u.includes('not-the-token')), 'no URL carries a token');
  check(consoleErrors.length === 0, `no console error during the admin actions (${consoleErrors.join(' | ')})`);
  await context.close();

  // ---- phone -------------------------------------------------------------------------------
  const phone = await browser.newContext({viewport: {width: 390, height: 844}, deviceScaleFactor: 2,
                                          isMobile: true, hasTouch: true});
  const small = await phone.newPage();
  const phoneErrors = [];
  small.on('console', (m) => m.type() === 'error' && phoneErrors.push(m.text()));
  small.on('pageerror', (e) => phoneErrors.push(e.message));
  await small.goto(base + '/dashboard', {waitUntil: 'load'});
  await small.waitForFunction(() => Number(document.body.dataset.updates || 0) >= 1, null, {timeout: 15_000});
  const widths = await small.evaluate(() => ({scroll: document.documentElement.scrollWidth,
                                               client: document.documentElement.clientWidth}));
  check(widths.scroll <= widths.client,
        `at phone size (390 px) nothing scrolls sideways (content ${widths.scroll} px, view ${widths.client} px)`);
  check(phoneErrors.length === 0, `no console error at phone size (${phoneErrors.join(' | ')})`);
  await small.screenshot({path: join(args.artifacts, 'dashboard-phone.png'), fullPage: true});
  await phone.close();

  exitCode = failures.length === 0 ? 0 : 1;
  console.log(failures.length === 0 ? 'dashboard page: every check passed'
                                    : `dashboard page: ${failures.length} check(s) failed`);
} catch (e) {
  console.error(`dashboard_page.mjs: ${e.stack || e}`);
  exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(guard);
}
process.exit(exitCode);
