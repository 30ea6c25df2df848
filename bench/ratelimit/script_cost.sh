#!/usr/bin/env bash
# script_cost.sh: the rate limiters' Lua scripts as Redis runs them, in instructions per EVALSHA
# (valgrind's callgrind, inclusive cost of evalShaCommand: the script, its redis.calls, turning
# its reply into RESP). Unlike time, instruction counts do not move with the load of a shared box,
# so this is the figure to compare two versions of a script by (bench/README.md). For each script
# and for a trivial `return 1` with as many arguments: 20,000 EVALSHAs over 100 keys (200 per key:
# with LIMIT 120 per minute, 120 admissions then 80 refusals per key; with 1,000,000, all admitted).
# Needs redis-server, redis-benchmark, valgrind. Starts its own redis-server under valgrind on a
# unix socket in a temp dir, and stops it (SHUTDOWN NOSAVE) before the next case.
# Run: bash bench/ratelimit/script_cost.sh          (~2 min)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=${N:-20000}

# ir FILE ARGS...: prints instructions per EVALSHA of FILE with ARGS.
ir() {
  local file=$1
  shift
  local sock=$dir/r.sock out=$dir/cg.out
  rm -f "$out" "$sock"
  valgrind --tool=callgrind --collect-atstart=no --toggle-collect=evalShaCommand \
    --callgrind-out-file="$out" redis-server --port 0 --unixsocket "$sock" --save '' \
    --appendonly no --dir "$dir" --logfile "$dir/redis.log" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do redis-cli -s "$sock" PING >/dev/null 2>&1 && break; sleep 0.2; done
  local sha
  sha=$(redis-cli -s "$sock" SCRIPT LOAD "$(cat "$file")")
  redis-benchmark -s "$sock" -n "$n" -c 16 -P 8 -r 100 -q EVALSHA "$sha" 1 'k:__rand_int__' "$@" \
    >/dev/null
  redis-cli -s "$sock" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  wait "$pid" || true
  callgrind_annotate "$out" 2>/dev/null | awk -v n="$n" \
    '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%8.0f\n", $1 / n; exit }'
}

echo 'return 1' >"$dir/trivial.lua"
lua=$here/src/ratelimit
printf '%-16s %9s %12s\n' script limit 'instr/call'
# ARGV as Limiter passes them (src/ratelimit/limiter.cpp, ScriptArgs), window 60 s.
printf '%-16s %9s %12s\n' trivial - "$(ir "$dir/trivial.lua" 120 60000000 1 0 60001)"
printf '%-16s %9s %12s\n' sliding_log 120 "$(ir "$lua/sliding_log.lua" 120 60000000 1 0 60001)"
printf '%-16s %9s %12s\n' sliding_log 1000000 \
  "$(ir "$lua/sliding_log.lua" 1000000 60000000 1 0 60001)"
printf '%-16s %9s %12s\n' sliding_window 120 "$(ir "$lua/sliding_window.lua" 120 60000000 1 0)"
printf '%-16s %9s %12s\n' sliding_window 1000000 \
  "$(ir "$lua/sliding_window.lua" 1000000 60000000 1 0)"
printf '%-16s %9s %12s\n' token_bucket 120 "$(ir "$lua/token_bucket.lua" 500000 60000000 1 60001 0)"
printf '%-16s %9s %12s\n' token_bucket 1000000 "$(ir "$lua/token_bucket.lua" 60 60000000 1 60001 0)"
