// tiercache dashboard: polls GET /v1/dashboard every 2 s (only the samples it lacks) and draws
// the last 15 minutes in plain SVG. Everything comes from the daemon that served the page.
// The admin token lives in this tab's sessionStorage and leaves it only as a bearer header.
'use strict';

(() => {
  const REFRESH_MS = 2000;
  const WINDOW_MS = 15 * 60 * 1000;
  const TOKEN_KEY = 'tiercache.adminToken';
  const PALETTE = ['#2f6f9f', '#3a9d8f', '#c28a2c', '#8a6fb3', '#c2566b', '#5b8c3a', '#4f6475',
                   '#b8733e'];
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const state = {
    samples: [],
    lastSeq: 0,
    capacity: 450,
    report: null,
    updates: 0,
    failures: 0,
    colors: new Map(),
  };

  const $ = (id) => document.getElementById(id);

  // ---- formatting -------------------------------------------------------------------------
  const intFmt = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
  const fmtInt = (n) => (n === null || n === undefined ? '–' : intFmt.format(n));
  const fmtPct = (r) => (r === null || r === undefined ? '–' : (r * 100).toFixed(1) + '%');
  function fmtRate(v) {
    if (v === null || v === undefined) return '–';
    if (v >= 100) return intFmt.format(Math.round(v));
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }
  function fmtMs(v) {
    if (v === null || v === undefined) return '–';
    if (v >= 100) return Math.round(v) + ' ms';
    if (v >= 1) return v.toFixed(1) + ' ms';
    return v.toFixed(2) + ' ms';
  }
  function fmtBytes(b) {
    if (b === null || b === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = b;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 ? String(v) : v.toFixed(v >= 100 ? 0 : 1)) + ' ' + units[i];
  }
  function fmtAgo(ms) {
    if (ms === null || ms === undefined) return '–';
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ago';
  }
  function fmtDuration(s) {
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    const two = (big, bigUnit, small, smallUnit) => (small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`);
    if (s < 86400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min');
    return two(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
  }
  const fmtClock = (t) => new Date(t).toLocaleTimeString('en-GB', {hour12: false});

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  function colorOf(name) {
    if (!state.colors.has(name)) {
      state.colors.set(name, PALETTE[state.colors.size % PALETTE.length]);
    }
    return state.colors.get(name);
  }

  // ---- charts -----------------------------------------------------------------------------
  // series: [{name, color, points: [[t, v|null], ...], dashed}]; opts: {max, unit, format,
  // limit: {value, label}, empty}
  function drawChart(id, series, opts) {
    const fig = $(id);
    const plot = fig.querySelector('.plot');
    const legend = fig.querySelector('.legend');
    const width = Math.max(200, plot.clientWidth || 300);
    const height = Math.max(100, plot.clientHeight || 150);
    const left = 46;
    const right = 8;
    const top = 6;
    const bottom = 18;
    const w = width - left - right;
    const h = height - top - bottom;
    const now = state.report ? state.report.now : Date.now();
    const t0 = now - WINDOW_MS;
    const root = svg('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img',
                             'aria-label': fig.querySelector('figcaption').textContent});
    let points = 0;
    let max = opts.max || 0;
    if (!opts.max) {
      for (const s of series) {
        for (const [, v] of s.points) if (v !== null && v > max) max = v;
      }
      if (opts.limit && opts.limit.value > max) max = opts.limit.value;
      // Four gridlines at round values: in bytes, round in the unit the labels use.
      const unit = opts.bytes && max >= 1024 ? Math.pow(1024, Math.floor(Math.log(max) / Math.log(1024))) : 1;
      max = max > 0 ? niceStep((max * 1.05) / 4 / unit) * unit * 4 : 1;
    }
    const x = (t) => left + ((t - t0) / WINDOW_MS) * w;
    const y = (v) => top + h - (Math.min(v, max) / max) * h;
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      const yy = y(v);
      root.append(svg('line', {class: 'gridline', x1: left, x2: left + w, y1: yy, y2: yy}));
      const label = svg('text', {class: 'axis', x: left - 6, y: yy + 3, 'text-anchor': 'end'});
      label.textContent = opts.format(v);
      root.append(label);
    }
    for (const m of [15, 10, 5, 0]) {
      const t = svg('text', {class: 'axis', x: x(now - m * 60000), y: height - 4,
                             'text-anchor': m === 15 ? 'start' : m === 0 ? 'end' : 'middle'});
      t.textContent = m === 0 ? 'now' : `−${m} min`;
      root.append(t);
    }
    if (opts.limit && opts.limit.value > 0) {
      const yy = y(opts.limit.value);
      root.append(svg('line', {class: 'limit', x1: left, x2: left + w, y1: yy, y2: yy}));
    }
    for (const s of series) {
      let d = '';
      let pen = false;
      for (const [t, v] of s.points) {
        if (t < t0 || v === null || v === undefined) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
        points++;
      }
      if (!d) continue;
      const path = svg('path', {class: 'series', d, stroke: s.color, 'data-series': s.name});
      if (s.dashed) path.setAttribute('stroke-dasharray', '5 3');
      root.append(path);
    }
    if (points === 0) {
      const t = svg('text', {class: 'nodata', x: left + w / 2, y: top + h / 2, 'text-anchor': 'middle'});
      t.textContent = opts.empty || 'no data yet';
      root.append(t);
    }
    plot.replaceChildren(root);
    plot.dataset.points = String(points);
    legend.replaceChildren(...series.map((s) => {
      const last = lastValue(s.points);
      const swatch = el('i');
      swatch.style.background = s.color;
      return el('span', {}, swatch, `${s.name} ${last === null ? '–' : opts.format(last)}`);
    }));
    if (opts.limit && opts.limit.value > 0) {
      const swatch = el('i');
      swatch.style.background = 'var(--bad)';
      legend.append(el('span', {}, swatch, `${opts.limit.label} ${opts.format(opts.limit.value)}`));
    }
  }

  function niceStep(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  function lastValue(points) {
    for (let i = points.length - 1; i >= 0; i--) if (points[i][1] !== null) return points[i][1];
    return null;
  }

  const pctFmt = (v) => Math.round(v) + '%';
  const numFmt = (v) => (v >= 1000 ? intFmt.format(Math.round(v)) : v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1));
  const msFmt = (v) => (v >= 10 || v === 0 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));

  function namespaceNames() {
    const names = new Set();
    for (const s of state.samples) for (const n of Object.keys(s.namespaces)) names.add(n);
    if (state.report) for (const n of Object.keys(state.report.stats.namespaces)) names.add(n);
    return [...names].sort();
  }

  function drawCharts() {
    const S = state.samples;
    const names = namespaceNames();
    const pct = (v) => (v === null || v === undefined ? null : v * 100);
    drawChart('chart-hit-rate', names.map((n) => ({
      name: n, color: colorOf(n),
      points: S.map((s) => [s.t, s.namespaces[n] ? pct(s.namespaces[n].hit_rate) : null]),
    })), {max: 100, format: pctFmt, empty: 'no reads in the last 15 minutes'});

    const tierShare = (s, field) => {
      let reads = 0;
      let part = 0;
      for (const n of Object.values(s.namespaces)) {
        reads += n.reads_per_s;
        part += n[field];
      }
      return reads > 0 ? (part / reads) * 100 : null;
    };
    drawChart('chart-tiers', [
      {name: 'L1', color: PALETTE[0], points: S.map((s) => [s.t, tierShare(s, 'hits_l1_per_s')])},
      {name: 'L2 (Redis)', color: PALETTE[1], points: S.map((s) => [s.t, tierShare(s, 'hits_l2_per_s')])},
      {name: 'stale', color: PALETTE[2], points: S.map((s) => [s.t, tierShare(s, 'stale_per_s')])},
    ], {max: 100, format: pctFmt, empty: 'no reads in the last 15 minutes'});

    drawChart('chart-ops', names.map((n) => ({
      name: n, color: colorOf(n),
      points: S.map((s) => [s.t, s.namespaces[n] ? s.namespaces[n].reads_per_s + s.namespaces[n].writes_per_s : null]),
    })), {format: numFmt});

    drawChart('chart-latency', [
      {name: 'p50', color: PALETTE[0], points: S.map((s) => [s.t, s.p50_ms])},
      {name: 'p99', color: PALETTE[4], points: S.map((s) => [s.t, s.p99_ms])},
    ], {format: msFmt, empty: 'no REST cache operations in the last 15 minutes'});

    drawChart('chart-l1', [
      {name: 'bytes', color: PALETTE[0], points: S.map((s) => [s.t, s.l1_bytes])},
    ], {bytes: true, format: (v) => fmtBytes(Math.round(v)).replace(' ', '')});
    const l1Legend = $('chart-l1').querySelector('.legend');
    const lastSample = S[S.length - 1];
    if (lastSample) l1Legend.append(el('span', {}, `entries ${fmtInt(lastSample.l1_entries)}`));

    const redis = state.report && state.report.redis;
    const maxmemory = redis && redis.maxmemory ? redis.maxmemory : 0;
    drawChart('chart-redis', state.report && state.report.mode === 'l1_only' ? [] : [
      {name: 'used', color: PALETTE[0], points: S.map((s) => [s.t, s.redis && s.redis.reachable ? s.redis.used_memory : null])},
    ], {bytes: true, format: (v) => fmtBytes(Math.round(v)).replace(' ', ''),
        limit: maxmemory ? {value: maxmemory, label: 'maxmemory'} : null,
        empty: state.report && state.report.mode === 'l1_only' ? 'no Redis: L1 only' : 'Redis not reached yet'});

    const evictionSeries = [
      {name: 'L1', color: PALETTE[0], points: S.map((s) => [s.t, s.l1_evictions_per_s])},
    ];
    if (!state.report || state.report.mode !== 'l1_only') {
      evictionSeries.push({name: 'Redis', color: PALETTE[4],
                           points: S.map((s) => [s.t, s.redis && s.redis.reachable ? s.redis.evictions_per_s : null])});
    }
    drawChart('chart-evictions', evictionSeries, {format: numFmt});

    const limitNames = new Set();
    for (const s of S) for (const n of Object.keys(s.limits)) limitNames.add(n);
    const limitSeries = [];
    let i = 0;
    for (const n of [...limitNames].sort()) {
      limitSeries.push({name: `${n} allowed`, color: PALETTE[i % PALETTE.length],
                        points: S.map((s) => [s.t, s.limits[n] ? s.limits[n].allowed_per_s : null])});
      limitSeries.push({name: `${n} denied`, color: PALETTE[i % PALETTE.length], dashed: true,
                        points: S.map((s) => [s.t, s.limits[n] ? s.limits[n].denied_per_s : null])});
      i++;
    }
    drawChart('chart-limits', limitSeries, {format: numFmt, empty: limitsMissing() || 'no decisions yet'});
  }

  function limitsMissing() {
    const r = state.report;
    if (!r) return null;
    if (r.rate_limits_configured === 0) return 'no rate limits configured';
    if (r.rate_limits.length === 0) return 'rate limits need Redis: L1 only';
    return null;
  }

  // ---- panels -----------------------------------------------------------------------------
  function renderHeader(r) {
    const status = r.health.status;
    const badge = $('status-badge');
    badge.textContent = status;
    badge.className = `badge badge-${['healthy', 'degraded', 'unhealthy'].includes(status) ? status : 'unknown'}`;
    badge.dataset.status = status;
    const redisPart = r.mode === 'l1_only'
      ? 'L1 only (no Redis)'
      : `L1 + Redis${r.redis && r.redis.version ? ' ' + r.redis.version : ''}`;
    $('mode').textContent = `${redisPart} · up ${fmtDuration(r.uptime_s)}`;
    $('updated').textContent = `updated ${fmtClock(r.now)}`;
    document.body.dataset.lastSeq = String(state.lastSeq);
    document.body.dataset.updates = String(state.updates);

    const banner = $('banner');
    let text = '';
    let bad = false;
    if (r.mode === 'l1_only') {
      text = r.redis && r.redis.mode === 'unreachable'
        ? 'No Redis: L1 only. Redis was unreachable at start; each instance serves from its own memory until restart.'
        : 'No Redis: L1 only. Each instance serves from its own memory; invalidations do not reach other instances.';
    } else if (r.redis && r.redis.reachable === false) {
      text = `Redis is not answering (${r.redis.error || 'no reply'}): serving from L1 and loaders, degraded.`;
      bad = true;
    }
    banner.hidden = !text;
    banner.textContent = text;
    banner.classList.toggle('bad', bad);
  }

  function renderKpis(r) {
    const last = state.samples[state.samples.length - 1];
    $('kpi-hit-rate').textContent = fmtPct(r.stats.hit_rate);
    $('kpi-hit-note').textContent = `${fmtInt(r.stats.hits)} hits, ${fmtInt(r.stats.misses)} misses since start`;
    $('kpi-ops').textContent = last ? fmtRate(last.ops_per_s) : '–';
    $('kpi-latency').textContent = last && last.p50_ms !== null
      ? `${fmtMs(last.p50_ms).replace(' ms', '')} / ${fmtMs(last.p99_ms)}` : '–';
    let l1Bytes = 0;
    let l1Entries = 0;
    let l1Capacity = 0;
    let l1Evictions = 0;
    for (const n of Object.values(r.stats.namespaces)) {
      l1Bytes += n.l1_bytes;
      l1Entries += n.l1_entries;
      l1Capacity += n.l1_capacity_bytes;
      l1Evictions += n.l1_evictions;
    }
    $('kpi-l1').textContent = fmtBytes(l1Bytes);
    $('kpi-l1-note').textContent = `${fmtInt(l1Entries)} entries of ${fmtBytes(l1Capacity)} bound`;

    const meter = $('kpi-redis-meter');
    const redis = r.redis;
    if (r.mode === 'l1_only') {
      $('kpi-redis').textContent = 'no Redis';
      $('kpi-redis-note').textContent = 'L1 only';
      meter.style.width = '0%';
    } else if (!redis || redis.reachable !== true) {
      $('kpi-redis').textContent = redis && redis.reachable === false ? 'unreachable' : '–';
      $('kpi-redis-note').textContent = redis && redis.error ? redis.error : 'waiting for the first sample';
      meter.style.width = '0%';
    } else {
      $('kpi-redis').textContent = fmtBytes(redis.used_memory);
      if (redis.maxmemory > 0) {
        const frac = redis.used_memory / redis.maxmemory;
        $('kpi-redis-note').textContent = `${(frac * 100).toFixed(1)}% of ${fmtBytes(redis.maxmemory)} (${redis.maxmemory_policy})`;
        meter.style.width = `${Math.min(100, frac * 100).toFixed(1)}%`;
        meter.className = 'meter-fill' + (frac >= 0.98 ? ' bad' : frac >= 0.9 ? ' warn' : '');
      } else {
        $('kpi-redis-note').textContent = `no maxmemory set (${redis.maxmemory_policy})`;
        meter.style.width = '0%';
      }
    }
    const redisEvicted = redis && redis.reachable ? fmtInt(redis.evicted_keys) : '–';
    $('kpi-evictions').textContent = fmtInt(l1Evictions);
    $('kpi-evictions-note').textContent = r.mode === 'l1_only'
      ? 'L1 entries evicted or expired' : `L1 evicted or expired; Redis evicted ${redisEvicted}`;
  }

  function renderNamespaces(r) {
    const tbody = $('ns-table').querySelector('tbody');
    const rows = [];
    for (const name of Object.keys(r.stats.namespaces).sort()) {
      const n = r.stats.namespaces[name];
      const cell = (field, text) => el('td', {class: 'num', 'data-field': field, text});
      const nameCell = el('td', {'data-field': 'name', text: name});
      rows.push(el('tr', {'data-ns': name},
        nameCell,
        cell('hits', fmtInt(n.hits)),
        cell('hits_l1', fmtInt(n.hits_l1)),
        cell('hits_l2', fmtInt(n.hits_l2)),
        cell('stale_served', fmtInt(n.stale_served)),
        cell('misses', fmtInt(n.misses)),
        cell('errors', fmtInt(n.errors)),
        cell('hit_rate', n.hits + n.misses + n.errors === 0 ? '–' : fmtPct(n.hit_rate)),
        cell('sets', fmtInt(n.sets)),
        cell('l1_bytes', n.l1_capacity_bytes === 0 ? 'off' : `${fmtBytes(n.l1_bytes)} / ${fmtBytes(n.l1_capacity_bytes)}`),
        cell('l1_entries', fmtInt(n.l1_entries))));
    }
    tbody.replaceChildren(...rows);
    for (const id of ['clear-ns', 'warm-ns']) {
      const select = $(id);
      const current = select.value;
      const names = Object.keys(r.stats.namespaces).sort();
      if ([...select.options].map((o) => o.value).join('\n') !== names.join('\n')) {
        select.replaceChildren(...names.map((n) => el('option', {value: n, text: n})));
        if (names.includes(current)) select.value = current;
      }
    }
  }

  function renderHealth(r) {
    const facts = $('health-facts');
    const h = r.health;
    const breakers = h.breakers.length === 0
      ? 'none watched by this daemon'
      : h.breakers.map((b) => `${b.endpoint}: ${b.state.replace('_', '-')}`).join(', ');
    const redis = r.redis;
    let redisText;
    if (r.mode === 'l1_only') redisText = redis && redis.mode === 'unreachable' ? 'unreachable at start: L1 only' : 'not configured: L1 only';
    else if (!redis || redis.reachable === null) redisText = 'not sampled yet';
    else if (redis.reachable) redisText = `reachable, ${fmtInt(redis.keys)} keys (INFO ${fmtAgo(r.now - redis.at)})`;
    else redisText = `not answering: ${redis.error}`;
    const degraded = r.mode === 'l1_only' || (redis && redis.reachable === false);
    const pairs = [
      ['Status', h.status],
      ['Checked', h.checked_at ? fmtAgo(r.now - h.checked_at) : 'not probed'],
      ['Degraded mode', degraded ? 'yes: serving without Redis' : 'no'],
      ['Redis', redisText],
      ['Circuit breakers', breakers],
      ['Uptime', fmtDuration(r.uptime_s)],
    ];
    facts.replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', {text: k}), el('dd', {text: v})]));
    const reasons = $('health-reasons');
    reasons.replaceChildren(...(h.reasons.length === 0
      ? [el('li', {text: 'No issue found by the last probe.'})]
      : h.reasons.map((x) => el('li', {class: `sev-${x.severity}`, text: x.message}))));
  }

  function renderLimits(r) {
    const tbody = $('limits-table').querySelector('tbody');
    tbody.replaceChildren(...r.rate_limits.map((l) => el('tr', {'data-limit': l.name},
      el('td', {text: l.name}),
      el('td', {text: `${l.algorithm.replace('_', ' ')}, ${fmtInt(l.limit)} per ${fmtDuration(Math.round(l.window_ms / 1000))}`}),
      el('td', {class: 'num', 'data-field': 'allowed', text: fmtInt(l.allowed)}),
      el('td', {class: 'num', 'data-field': 'denied', text: fmtInt(l.denied)}),
      el('td', {class: 'num', text: fmtInt(l.fail_open + l.fail_closed + l.local)}))));
    const missing = limitsMissing();
    $('limits-table').hidden = r.rate_limits.length === 0;
    $('limits-empty').hidden = !missing;
    $('limits-empty').textContent = missing === 'no rate limits configured'
      ? 'No rate limits are configured ([ratelimits.<name>] in tiercached.toml).'
      : missing ? 'Rate limits need Redis; this daemon runs on L1 alone.' : '';
  }

  function renderSlowLog(r) {
    const log = r.slow_log;
    $('slow-threshold').textContent = `at least ${log.threshold_ms} ms; ${fmtInt(log.recorded)} since start`;
    const tbody = $('slow-table').querySelector('tbody');
    tbody.replaceChildren(...log.entries.slice(0, 20).map((e) => el('tr', {},
      el('td', {text: fmtClock(e.t)}),
      el('td', {text: e.operation}),
      el('td', {class: 'key', title: e.key, text: e.key + (e.key_truncated ? '…' : '')}),
      el('td', {class: 'num', text: e.duration_ms.toFixed(1)}),
      el('td', {text: e.detail}))));
    $('slow-table').hidden = log.entries.length === 0;
    $('slow-empty').hidden = log.entries.length !== 0;
    $('slow-empty').textContent = `No request took ${log.threshold_ms} ms or more since start.`;
  }

  function renderCalendar(r) {
    const c = r.calendar;
    const list = $('cal-list');
    const empty = $('cal-empty');
    if (!c.enabled) {
      list.replaceChildren();
      empty.hidden = false;
      empty.textContent = c.why.charAt(0).toUpperCase() + c.why.slice(1) + '.';
      return;
    }
    const top = c.top_locations;
    const max = top.reduce((m, l) => Math.max(m, l.gets), 0) || 1;
    list.replaceChildren(...top.map((l) => {
      const fill = el('div', {class: 'fill'});
      fill.style.width = `${((l.gets / max) * 100).toFixed(1)}%`;
      return el('li', {},
        el('span', {class: 'name', title: l.location, text: l.location}),
        el('div', {class: 'track'}, fill),
        el('span', {class: 'count', text: fmtInt(l.gets)}));
    }));
    empty.hidden = top.length !== 0 && !c.error;
    if (c.error) empty.textContent = `The ranking could not be read: ${c.error}`;
    else if (c.at === null) empty.textContent = 'Not read yet (every 10 s).';
    else empty.textContent = 'No location has been asked for yet.';
  }

  // ---- admin ------------------------------------------------------------------------------
  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  function renderAdmin() {
    const r = state.report;
    const enabled = r ? r.admin_enabled : false;
    const has = token() !== '';
    $('token-state').textContent = has ? 'token set for this tab' : 'no token';
    $('clear-btn').disabled = !enabled || !has;
    $('warm-btn').disabled = !enabled || !has;
    $('token-input').disabled = !enabled;
    $('token-save').disabled = !enabled;
    if (r && !enabled) {
      $('admin-hint').textContent = 'The admin API is off on this daemon (set server.admin_token in tiercached.toml to turn it on).';
    }
  }

  function confirmAction(title, text) {
    const dialog = $('confirm-dialog');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    return new Promise((resolve) => {
      const done = (ok) => {
        $('confirm-ok').onclick = null;
        $('confirm-cancel').onclick = null;
        dialog.onclose = null;
        if (dialog.open) dialog.close();
        resolve(ok);
      };
      $('confirm-ok').onclick = () => done(true);
      $('confirm-cancel').onclick = () => done(false);
      dialog.onclose = () => done(false);
      dialog.showModal();
    });
  }

  function showResult(text, ok) {
    const out = $('admin-result');
    out.textContent = text;
    out.className = 'result ' + (ok ? 'ok' : 'bad');
    out.dataset.outcome = ok ? 'ok' : 'refused';
  }

  async function adminCall(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: {'Authorization': `Bearer ${token()}`, 'Content-Type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      json = null;
    }
    return {status: res.status, json};
  }

  function refusal(out) {
    const message = out.json && out.json.error ? out.json.error.message : 'no reason given';
    const what = out.status === 401 ? 'refused: the token is not right' : `failed (HTTP ${out.status})`;
    return `${what}. ${message}`;
  }

  async function clearNamespace() {
    const ns = $('clear-ns').value;
    if (!ns) return;
    const ok = await confirmAction('Clear namespace?',
      `Every entry of '${ns}' is invalidated, in L1 on every instance and in Redis. Loaders will refill it.`);
    if (!ok) {
      showResult(`Clearing '${ns}' cancelled.`, true);
      return;
    }
    try {
      const out = await adminCall(`/v1/admin/namespaces/${encodeURIComponent(ns)}/clear`);
      if (out.status === 200) showResult(`Cleared '${ns}'.`, true);
      else showResult(`Clearing '${ns}' ${refusal(out)}`, false);
    } catch (e) {
      showResult(`Clearing '${ns}' failed: ${e.message}`, false);
    }
  }

  async function warmNamespace() {
    const ns = $('warm-ns').value;
    const keys = $('warm-keys').value.split(',').map((k) => k.trim()).filter((k) => k !== '');
    if (!ns || keys.length === 0) {
      showResult('Give the keys to warm, comma separated.', false);
      return;
    }
    const ok = await confirmAction('Warm namespace?',
      `Read ${keys.length} key(s) of '${ns}' so that this instance's L1 holds what Redis has.`);
    if (!ok) {
      showResult(`Warming '${ns}' cancelled.`, true);
      return;
    }
    try {
      const out = await adminCall('/v1/admin/warm', {namespace: ns, keys});
      if (out.status === 200) showResult(`Warmed ${out.json.warmed} of ${keys.length} key(s) of '${ns}'.`, true);
      else showResult(`Warming '${ns}' ${refusal(out)}`, false);
    } catch (e) {
      showResult(`Warming '${ns}' failed: ${e.message}`, false);
    }
  }

  function wireAdmin() {
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const value = $('token-input').value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      $('token-input').value = '';
      renderAdmin();
    });
    $('token-forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      $('token-input').value = '';
      renderAdmin();
    });
    $('clear-btn').addEventListener('click', clearNamespace);
    $('warm-btn').addEventListener('click', warmNamespace);
  }

  // ---- polling ----------------------------------------------------------------------------
  function merge(report) {
    if (report.last_seq < state.lastSeq) {
      // The daemon restarted: its history starts again.
      state.samples = [];
    }
    state.capacity = report.capacity;
    for (const s of report.samples) state.samples.push(s);
    if (state.samples.length > state.capacity) state.samples.splice(0, state.samples.length - state.capacity);
    const oldest = report.now - WINDOW_MS;
    while (state.samples.length > 0 && state.samples[0].t < oldest) state.samples.shift();
    state.lastSeq = report.last_seq;
    state.report = report;
  }

  function render() {
    const r = state.report;
    if (!r) return;
    renderHeader(r);
    renderKpis(r);
    drawCharts();
    renderNamespaces(r);
    renderHealth(r);
    renderLimits(r);
    renderSlowLog(r);
    renderCalendar(r);
    renderAdmin();
  }

  async function poll() {
    try {
      const res = await fetch(`/v1/dashboard?since=${state.lastSeq}`, {cache: 'no-store'});
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const report = await res.json();
      merge(report);
      state.updates++;
      state.failures = 0;
      render();
    } catch (e) {
      state.failures++;
      const badge = $('status-badge');
      badge.textContent = 'unreachable';
      badge.className = 'badge badge-unhealthy';
      badge.dataset.status = 'unreachable';
      const banner = $('banner');
      banner.hidden = false;
      banner.classList.add('bad');
      banner.textContent = `The daemon is not answering (${e.message}); retrying every ${REFRESH_MS / 1000} s. The numbers below are from ${state.report ? fmtClock(state.report.now) : 'nowhere yet'}.`;
    } finally {
      setTimeout(poll, REFRESH_MS);
    }
  }

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (state.report) drawCharts();
    }, 150);
  });

  wireAdmin();
  renderAdmin();
  poll();
})();
