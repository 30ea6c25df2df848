#!/usr/bin/env bash
# vs_peers.sh: the rate limiter side by side with the leading Node.js Redis rate limiters (issue
# #6: "the same workload will be run side by side with the leading Redis rate-limiter libraries").
#
# What it runs, against one redis-server of its own (unix socket, no persistence, temp dir),
# in turns, ROUNDS times (A/B/A/B: the box is shared, so neither side gets all the quiet moments):
#   A  ratelimit_bench --redis=unix:...   our Limiter, each algorithm, limits 120 and 1,000,000 per
#                                         minute, and the trivial EVALSHA baseline of our client;
#   B  node peer/peer_bench.js            rate-limiter-flexible (fixed window, one Lua script),
#                                         ratelimiter (sliding log, a MULTI of 7 commands) and a
#                                         trivial EVALSHA by ioredis, on the same workload.
# The server is flushed before each turn, so each starts from empty keys. Then one table: per
# algorithm, ours against the peer that is closest (see bench/README.md for how they differ in
# exactness), each figure the mean over the rounds, and ours/peer for decisions/s, the client's CPU
# per decision and Redis's CPU per decision (for the two CPU columns, lower is better).
#
# How to run (from anywhere; ~6-10 minutes with the defaults, after the build):
#   bash bench/ratelimit/vs_peers.sh
#   N=50000 ROUNDS=1 bash bench/ratelimit/vs_peers.sh             # shorter
#   TIERCACHE_BUILD_DIR=build/my-release bash bench/ratelimit/vs_peers.sh
#   PEER_ARGS=--auto-pipelining bash bench/ratelimit/vs_peers.sh  # ioredis batching per tick
# N (default 200000) is the decisions per case on both sides; ROUNDS (default 2) the A/B turns;
# PEER_ARGS more arguments for peer_bench.js.
# TIERCACHE_BUILD_DIR (default build/release, relative to the repo) is configured as Release when
# it has no CMakeCache.txt yet, then ratelimit_bench is built there. `npm ci` runs in
# bench/ratelimit/peer when its node_modules is missing. Needs: node >= 20, npm, redis-server,
# redis-cli, cmake. On exit it stops the redis-server it started, by pid, and removes its temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
bin="${TIERCACHE_BUILD_DIR:-build/release}"
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
n="${N:-200000}"
rounds="${ROUNDS:-2}"
peer_dir="$repo/bench/ratelimit/peer"

say() { echo "vs_peers: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 64 ]; then die "N must be a number >= 64 (got '$n')"; fi
if ! [[ "$rounds" =~ ^[0-9]+$ ]] || [ "$rounds" -lt 1 ]; then die "ROUNDS must be >= 1"; fi
for tool in node npm redis-server redis-cli cmake; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  die "node >= 20 is needed (found $(node --version))"

dir=""
redis_pid=""
cleanup() {
  set +e
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill -TERM "$redis_pid"
    for _ in $(seq 50); do
      kill -0 "$redis_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$redis_pid" 2>/dev/null && kill -KILL "$redis_pid"
    wait "$redis_pid" 2>/dev/null
  fi
  [ -n "$dir" ] && rm -rf "$dir"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. our benchmark and the peers' packages ------------------------------------------------
if [ ! -f "$bin/CMakeCache.txt" ]; then
  say "configuring $bin (Release)"
  cmake --preset release -B "$bin" >&2
fi
say "building ratelimit_bench in $bin"
cmake --build "$bin" -j2 --target ratelimit_bench >&2
bench="$bin/bench/ratelimit_bench"
if [ ! -d "$peer_dir/node_modules" ]; then
  say "npm ci in $peer_dir"
  (cd "$peer_dir" && npm ci --no-audit --no-fund >&2)
fi

# --- 2. one redis-server for both --------------------------------------------------------------
dir=$(mktemp -d "${TMPDIR:-/tmp}/vs-peers.XXXXXX")
sock="$dir/redis.sock"
redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no --dir "$dir" \
  --logfile "$dir/redis.log" --daemonize no >/dev/null 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -s "$sock" PING >/dev/null 2>&1 && break
  kill -0 "$redis_pid" 2>/dev/null || die "redis-server exited: $(cat "$dir/redis.log")"
  sleep 0.1
done
redis-cli -s "$sock" PING >/dev/null 2>&1 || die "redis-server does not answer on $sock"
say "redis-server $(redis-server --version | awk '{print $3}') pid $redis_pid on $sock"

# --- 3. A/B in turns -----------------------------------------------------------------------
flush() { redis-cli -s "$sock" FLUSHALL >/dev/null; }
for r in $(seq "$rounds"); do
  flush
  say "round $r/$rounds: ours ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$bench" "$n" --redis="unix:$sock" | tee "$dir/ours.$r"
  flush
  say "round $r/$rounds: peers ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  # shellcheck disable=SC2086 # PEER_ARGS is a list of words
  node "$peer_dir/peer_bench.js" "$n" --redis="unix:$sock" ${PEER_ARGS:-} | tee "$dir/peer.$r"
done

# --- 4. one table ------------------------------------------------------------------------------
# ours.R rows:  alg limit | dec/s p50 p99 cpu srv-us srv-cpu admit batch | evalsha/s p50 p99 cpu srv-us srv-cpu | ...
# peer.R rows:  peer alg limit | dec/s p50 p99 cpu srv-cpu admit
echo
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
  "load $(cut -d' ' -f1-3 /proc/loadavg); $rounds round(s) of $n decisions per case; means over rounds"
awk -v rounds="$rounds" '
  FILENAME ~ /ours\./ && $3 == "|" && $1 ~ /^(sliding_log|sliding_window|token_bucket)$/ {
    k = $1 " " $2
    ours_ops[k] += $4; ours_cpu[k] += $7; ours_srv[k] += $9
    base_ops += $13; base_cpu += $16; base_srv += $18; base_n++
  }
  FILENAME ~ /peer\./ && $4 == "|" {
    k = $1 " " $3
    peer_ops[k] += $5; peer_cpu[k] += $8; peer_srv[k] += $9
  }
  function line(ours_name, limit, peer_name, peer_alg, o_ops, o_cpu, o_srv, p_ops, p_cpu, p_srv) {
    printf "%-15s %7s | %9.0f %6.2f %7.2f | %-22s %-13s | %9.0f %6.2f %7.2f | %7.2f %6.3f %6.2f\n",
      ours_name, limit, o_ops, o_cpu, o_srv, peer_name, peer_alg, p_ops, p_cpu, p_srv,
      (p_ops > 0 ? o_ops / p_ops : 0), (p_cpu > 0 ? o_cpu / p_cpu : 0), (p_srv > 0 ? o_srv / p_srv : 0)
  }
  function pair(alg, limit, peer, peer_alg,   k, p) {
    k = alg " " limit; p = peer " " limit
    line(alg, limit, peer, peer_alg, ours_ops[k] / rounds, ours_cpu[k] / rounds, ours_srv[k] / rounds,
         peer_ops[p] / rounds, peer_cpu[p] / rounds, peer_srv[p] / rounds)
  }
  END {
    printf "%-15s %7s | %9s %6s %7s | %-22s %-13s | %9s %6s %7s | %7s %6s %6s\n", "ours", "limit",
      "dec/s", "cpu us", "srv cpu", "peer", "algorithm", "dec/s", "cpu us", "srv cpu", "x dec/s",
      "x cpu", "x srv"
    for (i = 1; i <= 2; i++) {
      limit = i == 1 ? 120 : 1000000
      pair("sliding_log", limit, "ratelimiter", "sliding_log")
      pair("sliding_window", limit, "rate-limiter-flexible", "fixed_window")
      pair("token_bucket", limit, "rate-limiter-flexible", "fixed_window")
    }
    k = "ioredis-evalsha -"
    line("EVALSHA ret 1", "-", "ioredis-evalsha", "return-1", base_ops / base_n, base_cpu / base_n,
         base_srv / base_n, peer_ops[k] / rounds, peer_cpu[k] / rounds, peer_srv[k] / rounds)
    print "x = ours / peer: above 1 is better for dec/s, below 1 is better for the two CPU columns" \
      " (cpu us: the client process per decision; srv cpu: redis-server per decision)."
  }
' "$dir"/ours.* "$dir"/peer.*
