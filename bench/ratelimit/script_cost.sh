#!/usr/bin/env bash
# script_cost.sh: the rate limiters' Lua scripts as Redis runs them, in instructions per decision
# (valgrind's callgrind, inclusive cost of evalShaCommand: the script, its redis.calls, turning
# its reply into RESP, divided by the decisions each call carries). Unlike time, instruction
# counts do not move with the load of a shared box, so this is the figure to compare two versions
# of a script by (bench/README.md). For each script, batches of 1 and of BATCH decisions
# (default 32: the mean batch ratelimit_bench's 64 callers form) over 100 keys, 20,000 decisions
# in all (200 per key: with LIMIT 120 per minute, 120 admissions then 80 refusals per key; with
# 1,000,000, all admitted);
# and a trivial `return 1` with one key and five arguments, per call, the baseline.
# Needs redis-server, redis-benchmark, valgrind. Starts its own redis-server under valgrind on a
# unix socket in a temp dir, and stops it (SHUTDOWN NOSAVE) before the next case.
# Run: bash bench/ratelimit/script_cost.sh          (~3 min)   BATCH=64 bash ... for other sizes
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=${N:-20000}
batch=${BATCH:-32}

# ir FILE B ARGS...: prints instructions per decision of FILE, B decisions per EVALSHA, each on a
# random key of 100 and of cost 1, after the fixed ARGS.
ir() {
  local file=$1 b=$2
  shift 2
  local sock=$dir/r.sock out=$dir/cg.out calls=$((n / b))
  local keys=() costs=()
  for _ in $(seq "$b"); do
    keys+=('k:__rand_int__')
    costs+=(1)
  done
  rm -f "$out" "$sock"
  valgrind --tool=callgrind --collect-atstart=no --toggle-collect=evalShaCommand \
    --callgrind-out-file="$out" redis-server --port 0 --unixsocket "$sock" --save '' \
    --appendonly no --dir "$dir" --logfile "$dir/redis.log" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do redis-cli -s "$sock" PING >/dev/null 2>&1 && break; sleep 0.2; done
  local sha
  sha=$(redis-cli -s "$sock" SCRIPT LOAD "$(cat "$file")")
  # redis-benchmark draws each __rand_int__ of a command on its own.
  redis-benchmark -s "$sock" -n "$calls" -c 16 -P 8 -r 100 -q EVALSHA "$sha" "$b" "${keys[@]}" \
    "$@" "${costs[@]}" >/dev/null
  redis-cli -s "$sock" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  wait "$pid" || true
  callgrind_annotate "$out" 2>/dev/null | awk -v n="$((calls * b))" \
    '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%8.0f\n", $1 / n; exit }'
}

echo 'return 1' >"$dir/trivial.lua"
lua=$here/src/ratelimit
printf '%-16s %9s %6s %14s\n' script limit batch 'instr/decision'
# ARGV as Limiter passes them (src/ratelimit/batcher.cpp, fixed_arguments), window 60 s.
printf '%-16s %9s %6s %14s\n' trivial - 1 "$(ir "$dir/trivial.lua" 1 120 60000000 60001 0)"
for b in 1 "$batch"; do
  for limit in 120 1000000; do
    printf '%-16s %9s %6s %14s\n' sliding_log $limit "$b" \
      "$(ir "$lua/sliding_log.lua" "$b" $limit 60000000 60001)"
    printf '%-16s %9s %6s %14s\n' sliding_window $limit "$b" \
      "$(ir "$lua/sliding_window.lua" "$b" $limit 60000000)"
  done
  # T and tau: 60 s / limit and 60 s (burst = limit).
  printf '%-16s %9s %6s %14s\n' token_bucket 120 "$b" \
    "$(ir "$lua/token_bucket.lua" "$b" 500000 60000000 60001)"
  printf '%-16s %9s %6s %14s\n' token_bucket 1000000 "$b" \
    "$(ir "$lua/token_bucket.lua" "$b" 60 60000000 60001)"
done
