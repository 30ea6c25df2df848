#!/usr/bin/env bash
# proxy_vs_nginx.sh: the HTTP benchmark of tiercached (issue #7) against nginx proxy_cache.
#
# What it measures: cache hits over HTTP/1.1 keep-alive on loopback, with wrk (-t2 -c64 and -c256,
# 10 s each after a 2 s warm-up that is not reported), against three targets in the same run:
#   nginx      GET /weather?city=Paris  nginx 1.22 (Debian nginx-light), proxy_cache in front of
#                                       examples/demo_upstream (bench/http/nginx.conf.in): the baseline;
#   proxy      GET /weather?city=Paris  tiercached's caching proxy route in front of the same upstream;
#   rest       GET /v1/cache/bench/k    tiercached's REST API, a 1 KB JSON value.
# Both proxies serve the same cached upstream answer (~130 bytes of JSON, kept 10 minutes); the
# upstream waits 50 ms per answer, so a miss would show in the latencies. For each run: req/s,
# p50 and p99 latency, the server's CPU time per request (utime+stime from /proc/<pid>/stat
# before and after, nginx's master and workers summed) and the ratio of req/s to nginx's at the
# same connection count. Targets (issue #7): >= 1.0x nginx on hits, p99 < 2 ms at 256 connections.
# wrk, the servers and the upstream all share the machine's cores: read the ratios, and the CPU
# per request (the steadiest figure on a shared machine), more than the absolute numbers.
#
# How to run (from anywhere; about 1.5 minutes after the build):
#   bash bench/http/proxy_vs_nginx.sh
#   TIERCACHE_BUILD_DIR=build/my-release bash bench/http/proxy_vs_nginx.sh   # another build dir
# TIERCACHE_BUILD_DIR (default build/release, relative to the repo) is configured as Release when
# it has no CMakeCache.txt yet, then built; the binaries run from there.
# It installs wrk and nginx-light with apt-get when missing (root only; Debian's nginx service is
# kept from starting), builds tiercached and example_demo_upstream in Release, and starts
# redis-server (unix socket, no persistence), the demo upstream, tiercached and nginx (its own
# prefix and config) in a temp dir, all on 127.0.0.1. On exit it stops exactly the processes it
# started, by pid, and removes the temp dir. Needs: redis-server, redis-cli, curl, ss, cmake.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
bin="${TIERCACHE_BUILD_DIR:-build/release}"
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
connections=(64 256)
duration=10s
warmup=2s

say() { echo "proxy_vs_nginx: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

dir=""
pids=()            # every process this script started, in start order
made_policy_rc=0   # set when the script wrote /usr/sbin/policy-rc.d itself (removed on exit)

stop_pid() {       # stop_pid PID: TERM, up to 5 s, then KILL; only ever our own children
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  set +e
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  [ -n "$dir" ] && rm -rf "$dir"
  [ "$made_policy_rc" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. tools ----------------------------------------------------------------------------------
nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ -n "$(nginx_bin)" ] || missing+=(nginx-light)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing ${missing[*]}: run this script once as root (it runs apt-get install -y" \
      "${missing[*]}), or install them yourself"
  fi
  local nginx_was_running=0
  pgrep -x nginx >/dev/null 2>&1 && nginx_was_running=1
  # Keep Debian's nginx service from starting at install (invoke-rc.d asks policy-rc.d).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# written by bench/http/proxy_vs_nginx.sh for one install\nexit 101\n' \
      >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy_rc=1
  fi
  say "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends \
    "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  if [ "$made_policy_rc" = 1 ]; then
    rm -f /usr/sbin/policy-rc.d
    made_policy_rc=0
  fi
  if [ "$nginx_was_running" = 0 ]; then
    # Only the binary is used here: if the package started or enabled its service, undo that.
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now nginx >/dev/null 2>&1 || true
    elif command -v systemctl >/dev/null 2>&1; then
      systemctl disable nginx >/dev/null 2>&1 || true   # no systemd running: not at next boot either
    fi
    if [ -s /run/nginx.pid ]; then
      local svc
      svc=$(cat /run/nginx.pid)
      if [ -n "$svc" ] && [ "$(cat "/proc/$svc/comm" 2>/dev/null)" = nginx ]; then
        say "stopping the nginx service the package started (pid $svc)"
        kill -QUIT "$svc" 2>/dev/null || true
      fi
    fi
  fi
  command -v wrk >/dev/null 2>&1 || die "wrk is still missing after apt-get install"
  [ -n "$(nginx_bin)" ] || die "nginx is still missing after apt-get install"
}

ensure_tools
for tool in redis-server redis-cli curl ss cmake getconf; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found in PATH"
done
nginx=$(nginx_bin)

# --- 2. build ----------------------------------------------------------------------------------
say "building tiercached and example_demo_upstream (Release, in $bin)"
if [ ! -f "$bin/CMakeCache.txt" ]; then
  cmake --preset release -B "$bin" >/dev/null
fi
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$bin/CMakeCache.txt" ||
  say "warning: $bin is not a Release build; the figures will not be comparable"
cmake --build "$bin" --target tiercached example_demo_upstream >&2

# --- 3. start ----------------------------------------------------------------------------------
dir=$(mktemp -d /tmp/proxy_vs_nginx.XXXXXX)

# wait_for_line FILE REGEX: up to 10 s, prints the first match.
wait_for_line() {
  for _ in $(seq 200); do
    if grep -E -o -m1 "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  say "timed out waiting for '$2' in $1:"
  cat "$1" >&2
  return 1
}

# listen_port_of PID: the TCP port PID listens on (ss -p), empty while it does not yet.
listen_port_of() {
  ss -Hltnp 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }'
}

# free_port: a TCP port nothing listens on at the moment.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --save '' \
  --appendonly no --dir "$dir" --logfile "$dir/redis.log" >/dev/null 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 100); do
  redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 || die "redis-server did not start: $(cat "$dir/redis.log")"

"$bin/examples/demo_upstream" --listen 127.0.0.1:0 --delay-ms 50 >"$dir/upstream.log" 2>&1 &
pids+=($!)
upstream=$(wait_for_line "$dir/upstream.log" '^listening on 127\.0\.0\.1:[0-9]+' | sed 's/^listening on //')
upstream_port=${upstream##*:}

cat >"$dir/tiercached.toml" <<EOF
# Written by bench/http/proxy_vs_nginx.sh.
[server]
threads = 2
access_log = "off"
log_level = "warn"

[limits]
drain_timeout = "1s"

[namespaces.bench]
default_ttl = "10m"

[proxy.routes.weather]
upstream = "http://127.0.0.1:$upstream_port/weather"
ttl = "10m"
EOF
"$bin/src/server/tiercached" --config "$dir/tiercached.toml" --redis "unix://$dir/redis.sock" \
  --listen 127.0.0.1:0 >"$dir/tiercached.log" 2>&1 &
tc_pid=$!
pids+=("$tc_pid")
# Its "listening on 127.0.0.1:<port>" line is logged at info level; at log_level = "warn" it is
# not printed, so the port is also looked up from the socket tiercached listens on.
tc_port=""
for _ in $(seq 200); do
  kill -0 "$tc_pid" 2>/dev/null || { cat "$dir/tiercached.log" >&2; die "tiercached exited at start"; }
  tc_port=$(grep -E -o -m1 'listening on 127\.0\.0\.1:[0-9]+' "$dir/tiercached.log" 2>/dev/null |
    sed 's/.*://' || true)
  [ -n "$tc_port" ] || tc_port=$(listen_port_of "$tc_pid")
  [ -n "$tc_port" ] && break
  sleep 0.05
done
[ -n "$tc_port" ] || { cat "$dir/tiercached.log" >&2; die "tiercached did not start listening"; }
tc="127.0.0.1:$tc_port"

nginx_port=$(free_port)
prefix="$dir/nginx"
mkdir -p "$prefix"/{cache,client_body,proxy_temp,fastcgi_temp,uwsgi_temp,scgi_temp}
user_line="# (not root: the workers run as the invoking user)"
if [ "$(id -u)" -eq 0 ]; then
  # Workers run as nobody (nginx's default for a root master): give them the cache dirs only.
  user_line="user nobody nogroup;"
  chown -R nobody:nogroup "$prefix"
  chmod 711 "$dir"
fi
sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$nginx_port|g" -e "s|@UPSTREAM_PORT@|$upstream_port|g" \
  -e "s|@USER_LINE@|$user_line|" "$repo/bench/http/nginx.conf.in" >"$prefix/nginx.conf"
"$nginx" -t -q -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/error.log" ||
  die "nginx -t rejected $prefix/nginx.conf"
"$nginx" -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/error.log" &
nginx_pid=$!
pids+=("$nginx_pid")
ng="127.0.0.1:$nginx_port"
for _ in $(seq 200); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ng/" 2>/dev/null || true)
  [ -n "$code" ] && [ "$code" != 000 ] && break
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$prefix/error.log" >&2; die "nginx exited at start"; }
  sleep 0.05
done
say "redis-server pid $redis_pid, demo_upstream on $upstream (50 ms), tiercached on $tc (pid $tc_pid)," \
  "nginx on $ng (master pid $nginx_pid)"

# --- 4. warm -----------------------------------------------------------------------------------
# A 1 KB JSON value (exactly 1024 bytes).
head_json='{"key":"k","note":"bench value for GET /v1/cache/bench/k","pad":"'
pad_len=$((1024 - ${#head_json} - 2))
value="$head_json$(head -c "$pad_len" /dev/zero | tr '\0' 'x')\"}"
code=$(curl -s -o "$dir/put.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  --data-binary "$value" "http://$tc/v1/cache/bench/k")
case "$code" in 2??) ;; *) die "PUT /v1/cache/bench/k answered $code: $(cat "$dir/put.out")" ;; esac

# get_until_hit NAME URL: GETs until X-Cache says HIT (up to 5 s); body in $dir/NAME.body.
get_until_hit() {
  local name=$1 url=$2 status=""
  for _ in $(seq 50); do
    : >"$dir/$name.headers"
    curl -s -o "$dir/$name.body" -D "$dir/$name.headers" "$url" || true
    status=$(tr -d '\r' <"$dir/$name.headers" | awk -F': *' 'tolower($1) == "x-cache" { print $2 }')
    [ "$status" = HIT ] && return 0
    sleep 0.1
  done
  die "$name: $url never answered X-Cache: HIT (last: '${status:-none}'; headers: $(tr -d '\r' <"$dir/$name.headers" | tr '\n' ' '))"
}
get_until_hit nginx "http://$ng/weather?city=Paris"
get_until_hit proxy "http://$tc/weather?city=Paris"
get_until_hit rest "http://$tc/v1/cache/bench/k"
size_nginx=$(wc -c <"$dir/nginx.body")
size_proxy=$(wc -c <"$dir/proxy.body")
size_rest=$(wc -c <"$dir/rest.body")
[ "$size_nginx" -gt 0 ] && [ "$size_proxy" -gt 0 ] && [ "$size_rest" -gt 0 ] ||
  die "an empty body: nginx $size_nginx, proxy $size_proxy, rest $size_rest bytes"
# The same upstream answer but for served_at and call: within a factor of 1.5 of each other.
awk -v a="$size_nginx" -v b="$size_proxy" 'BEGIN { exit !(a <= 1.5 * b && b <= 1.5 * a) }' ||
  die "the proxy answers differ in size: nginx $size_nginx, tiercached $size_proxy bytes"
[ "$size_rest" -eq 1024 ] || die "GET /v1/cache/bench/k: $size_rest bytes, not the 1024 put"
say "warm: all three answer X-Cache: HIT; bodies nginx $size_nginx B, proxy $size_proxy B, rest $size_rest B"

# --- 5. measure --------------------------------------------------------------------------------
tck=$(getconf CLK_TCK)

# cpu_ticks PID...: utime+stime of the processes (fields 14 and 15 of /proc/<pid>/stat), plus
# cutime+cstime (16, 17): the children they have reaped, so an nginx cache loader that exits
# during a run still counts, in its master's figure. A process gone meanwhile is skipped.
cpu_ticks() {
  local total=0 pid fields
  for pid in "$@"; do
    fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue  # field 3 comes first
    total=$((total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$fields")))
  done
  echo "$total"
}
# shellcheck disable=SC2046  # one pid a word
nginx_pids() { echo "$nginx_pid" $(ps -o pid= --ppid "$nginx_pid"); }

# to_ms VALUE: wrk's "812.00us", "1.23ms", "2.01s", "1.00m" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else if (v ~ /h$/) { sub(/h$/, "", v); printf "%.3f", v * 3600000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "nan" }'
}

declare -A rps p50 p99 cpu_us errs
notes=()
# measure NAME URL CONNS: one warm-up run, then the measured one.
measure() {
  local name=$1 url=$2 n=$3 out="$dir/wrk.$1.$3.txt" before after req sock non2xx procs
  timeout 30 wrk -t2 -c"$n" -d"$warmup" "$url" >/dev/null 2>&1 || say "$name -c$n: the warm-up wrk failed"
  if [ "$name" = nginx ]; then procs=$(nginx_pids); else procs=$tc_pid; fi
  # shellcheck disable=SC2086
  before=$(cpu_ticks $procs)
  timeout 40 wrk -t2 -c"$n" -d"$duration" --latency "$url" >"$out" 2>&1 ||
    { cat "$out" >&2; die "$name -c$n: wrk failed"; }
  # shellcheck disable=SC2086
  after=$(cpu_ticks $procs)
  rps[$name.$n]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  req=$(awk '/ requests in / { print $1 }' "$out")
  p50[$name.$n]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99[$name.$n]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  [ -n "${rps[$name.$n]}" ] && [ -n "$req" ] && [ "$req" -gt 0 ] ||
    { cat "$out" >&2; die "$name -c$n: no Requests/sec in wrk's output"; }
  cpu_us[$name.$n]=$(awk -v t=$((after - before)) -v hz="$tck" -v r="$req" 'BEGIN { printf "%.2f", t / hz / r * 1e6 }')
  sock=$(awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); print }' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errs[$name.$n]=""
  [ -n "$sock" ] && errs[$name.$n]="socket errors: $sock"
  [ -n "$non2xx" ] && errs[$name.$n]="${errs[$name.$n]:+${errs[$name.$n]}; }non-2xx: $non2xx"
  [ -n "${errs[$name.$n]}" ] && notes+=("$name at $n connections: ${errs[$name.$n]}")
  say "$name -c$n: ${rps[$name.$n]} req/s, p50 ${p50[$name.$n]} ms, p99 ${p99[$name.$n]} ms"
}

targets=(nginx proxy rest)
declare -A url=(
  [nginx]="http://$ng/weather?city=Paris"
  [proxy]="http://$tc/weather?city=Paris"
  [rest]="http://$tc/v1/cache/bench/k"
)
for n in "${connections[@]}"; do
  for t in "${targets[@]}"; do measure "$t" "${url[$t]}" "$n"; done
done

# --- 6. report ---------------------------------------------------------------------------------
# Still hits after the runs? (A GET: it is what was measured.)
x_cache() { curl -s -o /dev/null -D - "$1" | tr -d '\r' | awk -F': *' 'tolower($1) == "x-cache" { print $2 }'; }
end_proxy=$(x_cache "http://$tc/weather?city=Paris")
end_nginx=$(x_cache "http://$ng/weather?city=Paris")
end_rest=$(x_cache "http://$tc/v1/cache/bench/k")
upstream_calls=$(curl -s "http://$upstream/_demo/stats" | tr -d ' \n' | grep -o '"/weather":[0-9]*' | cut -d: -f2 || true)

model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit="$commit+uncommitted changes"
echo
echo "http/proxy_vs_nginx  $(date -u '+%Y-%m-%d %H:%M UTC'), Release, commit $commit"
echo "machine: $(nproc) cpus, $model, shared, noisy (wrk -t2, the servers and the upstream share them)"
echo "nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///') (worker_processes 2), tiercached threads = 2," \
  "$(redis-server --version | awk '{ print $3 }' | sed 's/v=/redis-server /') (unix socket)," \
  "wrk $(wrk -v 2>&1 | awk 'NR == 1 { sub(/^debian\//, "", $2); print $2 }') -t2 -d$duration --latency"
echo
printf '%-8s %5s | %10s %8s %8s | %12s | %9s\n' target conns req/s 'p50 ms' 'p99 ms' 'cpu us/req' 'x nginx'
for n in "${connections[@]}"; do
  for t in "${targets[@]}"; do
    ratio=$(awk -v a="${rps[$t.$n]}" -v b="${rps[nginx.$n]}" 'BEGIN { printf "%.2f", a / b }')
    printf '%-8s %5s | %10.0f %8.3f %8.3f | %12s | %9s\n' "$t" "$n" "${rps[$t.$n]}" \
      "${p50[$t.$n]}" "${p99[$t.$n]}" "${cpu_us[$t.$n]}" "$ratio"
  done
done
echo
echo "bodies: nginx and proxy $size_nginx/$size_proxy bytes (the same upstream answer), rest $size_rest bytes"
echo "X-Cache after the runs (GET): proxy $end_proxy, nginx $end_nginx, rest $end_rest;" \
  "upstream /weather calls in all: ${upstream_calls:-?} (one per cache means every measured request was a hit)"
for n in "${connections[@]}"; do
  for t in proxy rest; do
    awk -v a="${rps[$t.$n]}" -v b="${rps[nginx.$n]}" -v t="$t" -v n="$n" -v p="${p99[$t.$n]}" 'BEGIN {
      r = a / b
      line = sprintf("target %s at %s: %.2fx nginx (>= 1.0x: %s)", t, n, r, r >= 1.0 ? "met" : "NOT met")
      if (n == 256) line = line sprintf(", p99 %.3f ms (< 2 ms: %s)", p, p < 2.0 ? "met" : "NOT met")
      print line }'
  done
done
[ "$end_proxy" = HIT ] || notes+=("the proxy's X-Cache after the runs was '${end_proxy:-none}', not HIT")
[ "$end_nginx" = HIT ] || notes+=("nginx's X-Cache after the runs was '${end_nginx:-none}', not HIT")
for note in "${notes[@]+"${notes[@]}"}"; do echo "note: $note"; done
exit 0
