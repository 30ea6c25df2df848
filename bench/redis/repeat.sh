#!/usr/bin/env bash
# repeat.sh: client_bench's 256-in-flight cases, each run R times in turns, and per case the
# median and range of the throughput ratio to redis-benchmark, and the medians of the server's
# CPU per operation during each side's run and of each side's own CPU per operation. On a
# shared 2-core machine one run of a case says little (a ratio moves 2x between runs); the
# median of several, taken in turns so that a change of load falls on every case alike, is what
# bench/README.md reports.
#
# How to run (a Release build; about R x 25 s):
#   bash bench/redis/repeat.sh [rounds=7] [links=1] [requests=200000]
#   TIERCACHE_BUILD_DIR=build/my-release bash bench/redis/repeat.sh 5 2
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-7}
links=${2:-1}
requests=${3:-200000}
bin="${TIERCACHE_BUILD_DIR:-build/release}/bench/client_bench"
[ -x "$bin" ] || { echo "repeat.sh: no $bin: cmake --build --preset release --target client_bench" >&2; exit 1; }
cases=(GET/100/256 SET/100/256 GET/10240/256 SET/10240/256)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" 1 "$links" NONE | sed -n '1,3p'   # the machine, the server, the client
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  for c in "${cases[@]}"; do
    # op size infl | ours ops p50 p99 srv | r-b ops p50 p99 srv | ratio p50x | cpu r-b-cpu
    "$bin" "$requests" "$links" "$c" | awk -v c="$c" -F'|' '/^(GET|SET) /{
      split($2, o, " "); split($3, b, " "); split($4, x, " "); split($5, u, " ");
      print c, x[1], o[4], b[4], o[1], b[1], u[1], u[2] }' >>"$out"
  done
done
echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-14s %6s | %-19s | %-11s | %-11s | %-11s | %s\n' case links \
  "ratio median (range)" "srv us ours" "srv us r-b" "cpu us ours" "cpu us r-b"
for c in "${cases[@]}"; do
  awk -v c="$c" '$1 == c' "$out" | sort -k2 -g | awk -v c="$c" -v links="$links" '
    { ratio[NR] = $2; so[NR] = $3; sb[NR] = $4; cpu[NR] = $7; cpub[NR] = $8 }
    function med(a, n,   i, j, t, s) {  # median of a[1..n]
      for (i = 1; i <= n; i++) s[i] = a[i]
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
      return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
    }
    END {
      printf "%-14s %6d | %4.2f (%4.2f-%4.2f)    | %5.2f       | %5.2f       | %5.2f       | %5.2f\n",
        c, links, med(ratio, NR), ratio[1], ratio[NR], med(so, NR), med(sb, NR), med(cpu, NR),
        med(cpub, NR)
    }'
done
