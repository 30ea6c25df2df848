// peer_bench.js: ratelimit_bench's workload run by the leading Node.js Redis rate limiters, for the
// side-by-side of issue #6 (bench/ratelimit/vs_peers.sh runs both against one redis-server).
// The workload is ratelimit_bench's: 64 concurrent callers over 100 keys ("bench:0".."bench:99",
// caller c's i-th request on key (c * 7 + i) % 100), N decisions per case after a warm-up of N/20
// on the same keys, limits of 120 and 1,000,000 per 60 s. Each case prints decisions/s, p50/p99,
// this process's CPU per decision (process.cpuUsage: user + system, all threads), Redis's CPU per
// decision (INFO cpu before and after: reading, parsing, the command or script, replying) and the
// share admitted. Peers, each with ioredis 5 on one connection, with its defaults (no
// auto-pipelining; --auto-pipelining turns it on: commands of one event-loop tick in one write):
//   rate-limiter-flexible  RateLimiterRedis.consume(key): a fixed window counter, one Lua script
//                          (SET NX EX, INCRBY, PTTL) by EVALSHA (ioredis defineCommand).
//   ratelimiter            (visionmedia/tj) Limiter.get(): a sliding log in a sorted set, one
//                          MULTI of 7 commands (ZREMRANGEBYSCORE, ZCARD, ZADD, 2 ZRANGE,
//                          ZREMRANGEBYRANK, PEXPIRE) stamped with this process's clock.
//   ioredis EVALSHA        a trivial script ("return 1") with 1 key and 4 arguments: the client's
//                          own floor, as ratelimit_bench's baseline is ours.
// Run: node peer_bench.js [decisions-per-case] --redis=unix:PATH|HOST:PORT [--peer=NAME]
//                         [--limit=N] [--auto-pipelining]    (npm ci first; bench/README.md)
'use strict';

const Redis = require('ioredis');
const { RateLimiterRedis } = require('rate-limiter-flexible');
const TjLimiter = require('ratelimiter');

const kCallers = 64;
const kKeys = 100;
const kWindowMs = 60000;

function usage(why) {
  process.stderr.write(
      `peer_bench: ${why}\nusage: node peer_bench.js [decisions-per-case] ` +
      '--redis=unix:PATH|HOST:PORT [--peer=rate-limiter-flexible|ratelimiter|evalsha] ' +
      '[--limit=N] [--auto-pipelining]\n');
  process.exit(2);
}

function parseOptions(argv) {
  const o = { total: 200000, redis: '', peer: '', limit: 0, autoPipelining: false };
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    const [name, value] = eq < 0 ? [arg, ''] : [arg.slice(0, eq + 1), arg.slice(eq + 1)];
    if (name === '--redis=') o.redis = value;
    else if (name === '--peer=') o.peer = value;
    else if (name === '--limit=') o.limit = Number(value);
    else if (arg === '--auto-pipelining') o.autoPipelining = true;
    else if (/^[0-9]+$/.test(arg)) o.total = Number(arg);
    else usage(`unknown argument ${arg}`);
  }
  if (!o.redis) usage('--redis is required (this script starts no server)');
  if (o.total < kCallers) usage('decisions-per-case must be at least the 64 callers');
  if (o.peer && !['rate-limiter-flexible', 'ratelimiter', 'evalsha'].includes(o.peer)) {
    usage('unknown --peer');
  }
  if (o.limit && !(Number.isInteger(o.limit) && o.limit > 0)) {
    usage('--limit wants a positive integer');
  }
  return o;
}

function connect(where, autoPipelining = false) {
  const options = { maxRetriesPerRequest: 1, enableAutoPipelining: autoPipelining };
  if (where.startsWith('unix:')) return new Redis({ ...options, path: where.slice(5) });
  const colon = where.lastIndexOf(':');
  if (colon <= 0) usage('--redis wants HOST:PORT or unix:PATH');
  const port = Number(where.slice(colon + 1));
  return new Redis({ ...options, host: where.slice(0, colon), port });
}

// CPU seconds of the redis-server process (INFO cpu), read on a connection of its own.
async function serverCpuSeconds(info) {
  const text = await info.info('cpu');
  const field = (name) => {
    const m = text.match(new RegExp(`^${name}:([0-9.]+)`, 'm'));
    return m ? Number(m[1]) : 0;
  };
  return field('used_cpu_user') + field('used_cpu_sys');
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.floor(p * (sorted.length - 1))];
}

// Runs `total` operations from 64 callers; op(key) resolves 1 admitted, 0 refused, -1 failed.
async function measure(op, total, info) {
  const per = Math.floor(total / kCallers);
  const keys = Array.from({ length: kKeys }, (_, i) => `bench:${i}`);
  const latencies = new Float64Array(per * kCallers);
  let admitted = 0;
  let errors = 0;
  const srv0 = info ? await serverCpuSeconds(info) : 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const caller = async (id) => {
    for (let i = 0; i < per; ++i) {
      const start = process.hrtime.bigint();
      const outcome = await op(keys[(id * 7 + i) % kKeys]);
      latencies[id * per + i] = Number(process.hrtime.bigint() - start) / 1e6;
      if (outcome < 0) ++errors;
      if (outcome > 0) ++admitted;
    }
  };
  const callers = [];
  for (let c = 0; c < kCallers; ++c) callers.push(caller(c));
  await Promise.all(callers);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const srv1 = info ? await serverCpuSeconds(info) : 0;
  const n = per * kCallers;
  latencies.sort();
  return {
    ops: n / wall,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    cpuUs: (cpu.user + cpu.system) / n,
    srvCpuUs: ((srv1 - srv0) * 1e6) / n,
    admitted: admitted / n,
    errors,
  };
}

let firstFailure = true;
function failed(error) {
  if (firstFailure) {
    firstFailure = false;
    process.stderr.write(`first failure: ${error && error.message ? error.message : error}\n`);
  }
  return -1;
}

// rate-limiter-flexible: consume() resolves when admitted and rejects with a RateLimiterRes when
// refused, with an Error when Redis failed (no insurance limiter configured).
function flexible(redis, limit) {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    points: limit,
    duration: kWindowMs / 1000,
    keyPrefix: `rlf:${limit}`,
  });
  return (key) =>
    limiter.consume(key, 1).then(() => 1, (r) => (r instanceof Error ? failed(r) : 0));
}

// ratelimiter: a Limiter per call, as its README does; admitted when remaining > 0 (remaining is
// counted before this request's own entry).
function tj(redis, limit) {
  return (key) => new Promise((resolve) => {
    new TjLimiter({ id: `${limit}:${key}`, db: redis, max: limit, duration: kWindowMs })
        .get((error, info) => resolve(error ? failed(error) : info.remaining > 0 ? 1 : 0));
  });
}

function evalsha(redis) {
  redis.defineCommand('trivial', { numberOfKeys: 1, lua: 'return 1' });
  return (key) => redis.trivial(key, '120', '60000000', '1', '0').then(() => 1, failed);
}

function version(name) {
  return require(`${name}/package.json`).version;
}

function row(peer, algorithm, limit, f) {
  const pad = (s, n) => String(s).padEnd(n);
  const num = (v, n, d) => v.toFixed(d).padStart(n);
  process.stdout.write(
      `${pad(peer, 22)} ${pad(algorithm, 13)} ${String(limit).padStart(7)} | ` +
      `${num(f.ops, 11, 0)} ` +
      `${num(f.p50, 7, 3)} ${num(f.p99, 7, 3)} ${num(f.cpuUs, 6, 2)} ${num(f.srvCpuUs, 7, 2)} ` +
      `${num(100 * f.admitted, 5, 1)}%${f.errors ? '  (errors!)' : ''}\n`);
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const redis = connect(o.redis, o.autoPipelining);
  const info = connect(o.redis);
  process.stdout.write(
      `peers:   node ${process.versions.node}, ioredis ${version('ioredis')}, ` +
      `rate-limiter-flexible ${version('rate-limiter-flexible')}, ` +
      `ratelimiter ${version('ratelimiter')}\n` +
      `client:  1 ioredis connection to ${o.redis} ` +
      `(auto-pipelining ${o.autoPipelining ? 'on' : 'off'}), ` +
      `${kCallers} callers over ${kKeys} keys, ${o.total} decisions per case\n\n`);
  process.stdout.write(
      `${'peer'.padEnd(22)} ${'algorithm'.padEnd(13)} ${'limit'.padStart(7)} | ` +
      `${'decisions/s'.padStart(11)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ` +
      `${'cpu us'.padStart(6)} ${'srv cpu'.padStart(7)}  admit\n`);
  const want = (peer) => !o.peer || o.peer === peer;
  if (want('evalsha')) {
    const op = evalsha(redis);
    await measure(op, Math.floor(o.total / 10), null);  // warm up: connect, load the script
    row('ioredis-evalsha', 'return-1', '-', await measure(op, o.total, info));
  }
  for (const limit of o.limit ? [o.limit] : [120, 1000000]) {
    const peers = [['rate-limiter-flexible', 'fixed_window', flexible],
                   ['ratelimiter', 'sliding_log', tj]];
    for (const [peer, algorithm, make] of peers) {
      if (!want(peer)) continue;
      const op = make(redis, limit);
      await measure(op, Math.floor(o.total / 20), null);  // warm up, as ratelimit_bench
      row(peer, algorithm, limit, await measure(op, o.total, info));
    }
  }
  redis.disconnect();
  info.disconnect();
}

main().catch((error) => {
  process.stderr.write(`peer_bench: ${error.stack || error}\n`);
  process.exit(1);
});
