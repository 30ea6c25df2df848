// tiercached's MCP server driven by the official MCP TypeScript SDK (@modelcontextprotocol/sdk),
// as an MCP host would: over stdio (`tiercached mcp`, spawned by the SDK) and over Streamable
// HTTP (a tiercached of our own). Each transport: initialize, list tools, call every tool with
// valid and invalid arguments, and check the results; HTTP also ends its session and refuses a
// foreign Origin. Over stdio, calendar_warm reports progress and stops when the call is aborted
// (notifications/progress and notifications/cancelled, issue #8). The script starts its own redis-server, a small events upstream (node's http,
// the calendar_warm source behind the proxy route "events") and tiercached on free loopback
// ports, and stops only those.
// Run: TIERCACHED=/path/to/tiercached node client_test.mjs  (ctest does, after `npm ci`)
// Env: TIERCACHED (required), REDIS_SERVER (default: redis-server from PATH).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const TIERCACHED = process.env.TIERCACHED;
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const DEADLINE_MS = 20000;

if (!TIERCACHED) {
  console.error('client_test: set TIERCACHED to the tiercached binary');
  process.exit(2);
}

const dir = mkdtempSync(path.join(tmpdir(), 'tiercached-mcp-'));
const children = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function start(command, args, name) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.on('error', (e) => { output += `spawn failed: ${e.message}`; });
  children.push(child);
  return { child, output: () => output, name };
}

async function waitFor(check, what, proc) {
  const end = Date.now() + DEADLINE_MS;
  while (Date.now() < end) {
    if (proc.child.exitCode !== null) break;
    try {
      if (await check()) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up; its output:\n${proc.output()}`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

let redisUrl;
let httpPort;
let configFile;
let eventsServer;
let eventsRequests = 0;
let slowRequests = 0;
// Answers for locations named slow-* wait this long: a warm of them takes a while to cancel.
const SLOW_MS = 40;

// The events upstream calendar_warm loads through the proxy: GET /events?location=L&date=D
// answers two events of that day (as examples/demo_upstream's /events does).
function startEventsUpstream() {
  return new Promise((resolve) => {
    eventsServer = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://127.0.0.1');
      const location = url.searchParams.get('location');
      const date = url.searchParams.get('date');
      if (url.pathname !== '/events' || !location || !/^\d{4}-\d{2}-\d{2}$/.test(date || '')) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end('{"error":{"code":"bad_request","message":"location and date"}}');
        return;
      }
      eventsRequests += 1;
      const slow = location.startsWith('slow-');
      if (slow) slowRequests += 1;
      setTimeout(() => answerEvents(res, location, date), slow ? SLOW_MS : 0);
    });
    eventsServer.listen(0, '127.0.0.1', () => resolve(eventsServer.address().port));
  });
}

function answerEvents(res, location, date) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ location, date, events: [
        { id: `${location}-${date}-a`, title: `Concert in ${location}`, category: 'music',
          start: `${date}T20:00:00Z`, score: 80 },
        { id: `${location}-${date}-b`, title: `Market in ${location}`, category: 'food',
          start: `${date}T09:00:00Z`, score: 30 }] }));
}

before(async () => {
  const redisPort = await freePort();
  const redis = start(REDIS_SERVER, ['--port', String(redisPort), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no'], 'redis-server');
  await waitFor(() => canConnect(redisPort), 'redis-server', redis);
  redisUrl = `redis://127.0.0.1:${redisPort}`;

  const eventsPort = await startEventsUpstream();
  httpPort = await freePort();
  configFile = path.join(dir, 'tiercached.toml');
  writeFileSync(configFile, [
    '[server]', `listen = "127.0.0.1:${httpPort}"`, 'access_log = "off"', 'log_level = "warn"',
    'threads = 2', '', '[namespaces.users]', 'default_ttl = "5m"', '', '[namespaces.small]',
    'max_value_size = 64', '', '[proxy.routes.events]',
    `upstream = "http://127.0.0.1:${eventsPort}/events"`, 'ttl = "1h"', '', '[calendar]',
    'warm_route = "events"', ''].join('\n'));
  const daemon = start(TIERCACHED, ['--config', configFile, '--redis', redisUrl], 'tiercached');
  await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok,
    'tiercached', daemon);
});

after(() => {
  eventsServer?.close();
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
  rmSync(dir, { recursive: true, force: true });
});

function textOf(result) {
  assert.ok(Array.isArray(result.content) && result.content.length > 0, 'content is empty');
  assert.equal(result.content[0].type, 'text');
  return result.content[0].text;
}

async function expectToolError(client, name, args, needle) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail: ${JSON.stringify(r)}`);
  assert.match(textOf(r), needle);
}

// The same checks over either transport; `prefix` keeps the two runs' keys apart.
async function exerciseTools(client, prefix) {
  const info = client.getServerVersion();
  assert.equal(info.name, 'tiercached');
  assert.ok(client.getServerCapabilities().tools, 'the server offers tools');
  assert.ok(client.getInstructions().includes('cache_stats'));

  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(),
    ['cache_get', 'cache_invalidate', 'cache_set', 'cache_stats', 'calendar_daily_summary',
      'calendar_get_events', 'calendar_history', 'calendar_invalidate', 'calendar_stats',
      'calendar_store_events', 'calendar_top_events', 'calendar_warm']);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object');
    assert.ok(t.outputSchema, `${t.name} has an output schema`);
    assert.ok(t.description.length > 80, `${t.name} has a description a model can use`);
  }

  // cache_set and cache_get, valid: the SDK also checks structuredContent against outputSchema.
  const key = `${prefix}:user:1`;
  let r = await client.callTool({ name: 'cache_set', arguments: {
    namespace: 'users', key, value: 'Ada Lovelace', ttl: '10m', tags: [`${prefix}-team`],
    priority: 'high' } });
  assert.equal(r.isError, false, textOf(r));
  assert.deepEqual(r.structuredContent, { namespace: 'users', key, stored: true, bytes: 12,
    ttl_ms: 600000 });
  r = await client.callTool({ name: 'cache_get', arguments: { namespace: 'users', key } });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.hit, true);
  assert.equal(r.structuredContent.value, 'Ada Lovelace');
  assert.deepEqual(JSON.parse(textOf(r)), r.structuredContent);
  r = await client.callTool({ name: 'cache_set', arguments: {
    namespace: 'users', key: `${prefix}:json`, value: { seats: [1, 2] } } });
  assert.equal(r.isError, false);
  r = await client.callTool({ name: 'cache_get',
    arguments: { namespace: 'users', key: `${prefix}:json` } });
  assert.equal(r.structuredContent.content_type, 'application/json');
  assert.deepEqual(JSON.parse(r.structuredContent.value), { seats: [1, 2] });
  r = await client.callTool({ name: 'cache_get',
    arguments: { namespace: 'users', key: `${prefix}:absent` } });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.hit, false);

  // cache_set and cache_get, invalid: error results that say what is expected.
  await expectToolError(client, 'cache_get', { namespace: 'nope', key: 'k' }, /use one of: /);
  await expectToolError(client, 'cache_get', { namespace: 'users' },
    /missing required argument 'key'/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad`,
    value: 'v', ttl: 'soon' }, /not a duration \(as 90s, 10m/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad`,
    value: 'v', priority: 'urgent' }, /priority must be one of/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad` },
    /exactly one of 'value'/);
  await expectToolError(client, 'cache_set', { namespace: 'small', key: `${prefix}:bad`,
    value: 'x'.repeat(100) }, /at most 64/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad`,
    value: 'v', colour: 'red' }, /unknown argument 'colour'/);
  r = await client.callTool({ name: 'cache_get',
    arguments: { namespace: 'users', key: `${prefix}:bad` } });
  assert.equal(r.structuredContent.hit, false, 'a refused write stored nothing');

  // cache_invalidate, valid and invalid.
  await expectToolError(client, 'cache_invalidate', { namespace: 'users' }, /name something/);
  await expectToolError(client, 'cache_invalidate', { namespace: 'users', all: 'yes' },
    /all must be a boolean/);
  r = await client.callTool({ name: 'cache_invalidate',
    arguments: { namespace: 'users', tags: [`${prefix}-team`] } });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.tags_invalidated, 1);
  r = await client.callTool({ name: 'cache_get', arguments: { namespace: 'users', key } });
  assert.equal(r.structuredContent.hit, false, 'the tagged value is gone');
  r = await client.callTool({ name: 'cache_invalidate',
    arguments: { namespace: 'users', keys: [`${prefix}:json`] } });
  assert.equal(r.structuredContent.keys_deleted, 1);
  r = await client.callTool({ name: 'cache_invalidate',
    arguments: { namespace: 'users', pattern: `${prefix}:*` } });
  assert.equal(r.isError, false);

  // cache_stats, valid and invalid.
  r = await client.callTool({ name: 'cache_stats', arguments: {} });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.mode, 'two_tier');
  assert.ok(r.structuredContent.namespaces.users.hits >= 2);
  r = await client.callTool({ name: 'cache_stats', arguments: { namespace: 'small' } });
  assert.deepEqual(Object.keys(r.structuredContent.namespaces), ['small']);
  await expectToolError(client, 'cache_stats', { namespace: 7 }, /namespace must be a string/);

  await exerciseCalendarTools(client, prefix);

  // An unknown tool is a protocol error (-32602), which the SDK throws.
  await assert.rejects(client.callTool({ name: 'cache_explode', arguments: {} }),
    (e) => e.code === -32602 && /unknown tool/.test(e.message));
}

async function callOk(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, `${name} ${JSON.stringify(args)}: ${textOf(r)}`);
  assert.deepEqual(JSON.parse(textOf(r)), r.structuredContent);
  return r.structuredContent;
}

// Every calendar tool, valid and invalid; `prefix` keeps the two runs' locations apart (they
// share one redis-server, so counts are checked per location, not globally).
async function exerciseCalendarTools(client, prefix) {
  const where = `${prefix} Paris`;
  const loc = `${prefix} paris`;
  let r = await callOk(client, 'calendar_store_events', {
    location: where, from: '2026-05-01', to: '2026-05-02', ttl: '6h', events: [
      { id: 'e1', title: 'Jazz night', start: '2026-05-01T20:00:00Z', categories: ['music'],
        score: 40 },
      { id: 'e2', title: 'Market', start: '2026-05-01T08:00:00Z', categories: ['food'],
        score: 90 },
      { id: 'e3', title: 'Play', start: '2026-05-02T19:00:00Z', categories: ['theatre'] }] });
  assert.equal(r.location, loc);
  assert.equal(r.stored, 3);
  assert.equal(r.ttl_ms, 6 * 3600 * 1000);
  await callOk(client, 'calendar_store_events', { location: where, from: '2026-05-03',
    to: '2026-05-04', events: [{ id: 'e4', start: '2026-05-04T10:00:00Z', score: 5 }] });
  await expectToolError(client, 'calendar_store_events', { location: where, from: '2026-05-01',
    to: '2026-05-01', events: [{ id: 'x', start: '2026-06-01T10:00:00Z' }] },
  /nothing was stored/);

  // A range across both stores is a hit; one past them is a miss naming the missing days.
  r = await callOk(client, 'calendar_get_events', { location: where, from: '2026-05-02',
    to: '2026-05-04' });
  assert.equal(r.hit, true);
  assert.deepEqual(r.events.map((e) => e.id), ['e3', 'e4']);
  r = await callOk(client, 'calendar_get_events', { location: where, from: '2026-05-04',
    to: '2026-05-06', categories: ['music'] });
  assert.equal(r.hit, false);
  assert.deepEqual(r.missing_days, ['2026-05-05', '2026-05-06']);
  await expectToolError(client, 'calendar_get_events', { location: where, from: 'May 1',
    to: '2026-05-02' }, /'from' is "May 1", not a date: write YYYY-MM-DD/);

  r = await callOk(client, 'calendar_top_events', { location: where, day: '2026-05-01', n: 2,
    by: 'score' });
  assert.deepEqual(r.events.map((e) => e.id), ['e2', 'e1']);
  r = await callOk(client, 'calendar_top_events', { location: where, day: '2026-05-01', n: 1 });
  assert.deepEqual(r.events.map((e) => e.id), ['e2']);
  await expectToolError(client, 'calendar_top_events', { location: where, day: '2026-05-01',
    n: 2000 }, /n must be <= 1000/);

  r = await callOk(client, 'calendar_daily_summary', { location: where, day: '2026-05-01' });
  assert.equal(r.found, true);
  assert.equal(r.summary.total, 2);
  await expectToolError(client, 'calendar_daily_summary', { location: where },
    /missing required argument 'day'/);

  r = await callOk(client, 'calendar_invalidate', { location: where, from: '2026-05-02',
    to: '2026-05-02' });
  assert.equal(r.invalidated, 'range');
  r = await callOk(client, 'calendar_get_events', { location: where, from: '2026-05-01',
    to: '2026-05-03' });
  assert.deepEqual(r.missing_days, ['2026-05-02']);
  await expectToolError(client, 'calendar_invalidate', { location: where, to: '2026-05-02' },
    /give both 'from' and 'to'/);

  r = await callOk(client, 'calendar_history', { location: where });
  assert.deepEqual(r.entries.map((e) => e.op), ['store', 'store', 'invalidate_range']);
  await expectToolError(client, 'calendar_history', { location: where, limit: 'ten' },
    /limit must be an integer/);

  r = await callOk(client, 'calendar_stats', {});
  assert.ok(r.hits >= 1 && r.misses >= 2 && r.events_stored >= 4, JSON.stringify(r));
  await expectToolError(client, 'calendar_stats', { prefix: 'x' }, /unknown argument 'prefix'/);

  // Warm: the location asked most is loaded through the proxy route from the events upstream.
  // Asked more often than the other run's (both share one redis-server): it is the top one.
  const hot = `${prefix}-hot`;
  const asks = prefix === 'http' ? 50 : 25;
  for (let i = 0; i < asks; i += 1) {
    await callOk(client, 'calendar_get_events', { location: hot, from: '2026-09-01',
      to: '2026-09-02' });
  }
  const before = eventsRequests;
  r = await callOk(client, 'calendar_warm', { n: 1, from: '2026-09-01', to: '2026-09-02' });
  assert.deepEqual(r.loaded, [hot], JSON.stringify(r));
  assert.equal(r.events_stored, 4);
  assert.equal(eventsRequests - before, 2, 'one upstream request per day');
  r = await callOk(client, 'calendar_get_events', { location: hot, from: '2026-09-01',
    to: '2026-09-02' });
  assert.equal(r.hit, true);
  assert.deepEqual(r.events.map((e) => e.categories), [['food'], ['music'], ['food'], ['music']]);
  await expectToolError(client, 'calendar_warm', { n: 1, from: '2026-09-01', to: '2026-12-01' },
    /at most 31/);
}

describe('tiercached MCP', () => {
  test('over stdio (tiercached mcp)', { timeout: 60000 }, async () => {
    const transport = new StdioClientTransport({
      command: TIERCACHED,
      args: ['mcp', '--config', configFile, '--redis', redisUrl],
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d) => { stderr += d; });
    const client = new Client({ name: 'tiercache-tests', version: '1.0.0' });
    try {
      await client.connect(transport);
      await exerciseTools(client, 'stdio');
    } catch (e) {
      e.message += `\ntiercached mcp stderr:\n${stderr}`;
      throw e;
    } finally {
      await client.close();
    }
  });

  test('calendar_warm over stdio reports progress and stops when cancelled', { timeout: 60000 },
    async () => {
      const transport = new StdioClientTransport({
        command: TIERCACHED,
        args: ['mcp', '--config', configFile, '--redis', redisUrl],
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (d) => { stderr += d; });
      const client = new Client({ name: 'tiercache-tests', version: '1.0.0' });
      try {
        await client.connect(transport);
        // Six slow locations become popular (31 days each: ~1.2 s of upstream answers apiece).
        const slow = [1, 2, 3, 4, 5, 6].map((i) => `slow-${i}`);
        for (const where of slow) {
          await callOk(client, 'calendar_get_events', { location: where, from: '2026-10-01',
            to: '2026-10-31' });
        }
        const progress = [];
        const abort = new AbortController();
        const warming = client.callTool({ name: 'calendar_warm', arguments: { n: 100,
          from: '2026-10-01', to: '2026-10-31' } }, undefined, {
          signal: abort.signal,
          onprogress: (p) => {
            progress.push(p);
            if (p.progress >= 1) abort.abort('enough');
          },
        });
        await assert.rejects(warming, /enough/);
        assert.ok(progress.length >= 2, JSON.stringify(progress));
        assert.ok(progress[0].total >= 1 && typeof progress[1].message === 'string',
          JSON.stringify(progress));
        for (let i = 1; i < progress.length; i += 1) {
          assert.ok(progress[i].progress > progress[i - 1].progress, 'progress grows');
        }
        // The server stops: the upstream goes quiet well before every slow day was asked.
        const end = Date.now() + 15000;
        let seen = -1;
        while (slowRequests !== seen && Date.now() < end) {
          seen = slowRequests;
          await new Promise((r) => setTimeout(r, 400));
        }
        assert.ok(slowRequests < slow.length * 31, `${slowRequests} slow upstream requests`);
        let cached = 0;
        for (const where of slow) {
          const r = await callOk(client, 'calendar_get_events', { location: where,
            from: '2026-10-01', to: '2026-10-31' });
          if (r.hit) cached += 1;
        }
        assert.ok(cached < slow.length, `${cached} of the slow locations were loaded anyway`);
        // The session goes on after the cancel.
        const r = await callOk(client, 'calendar_stats', {});
        assert.ok(r.hits >= 0);
      } catch (e) {
        e.message += `\ntiercached mcp stderr:\n${stderr}`;
        throw e;
      } finally {
        await client.close();
      }
    });

  test('over Streamable HTTP', { timeout: 60000 }, async () => {
    const url = new URL(`http://127.0.0.1:${httpPort}/mcp`);
    const transport = new StreamableHTTPClientTransport(url);
    const client = new Client({ name: 'tiercache-tests', version: '1.0.0' });
    await client.connect(transport);
    const session = transport.sessionId;
    assert.match(session, /^[0-9a-f]{32}$/);
    assert.equal(transport.protocolVersion, '2025-11-25');
    await exerciseTools(client, 'http');
    await transport.terminateSession();
    const after = await fetch(url, { method: 'POST', headers: {
      'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      'Mcp-Session-Id': session }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    assert.equal(after.status, 404, 'the ended session is gone');
    await client.close();
  });

  test('refuses a foreign Origin over HTTP', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/mcp`, { method: 'POST', headers: {
      'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      Origin: 'https://evil.example' }, body: JSON.stringify({ jsonrpc: '2.0', id: 0,
      method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {},
        clientInfo: { name: 'x', version: '1' } } }) });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('mcp-session-id'), null);
  });
});
