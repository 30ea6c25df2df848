#!/usr/bin/env bash
# run.sh: the README's run command. Installs what is missing, builds in Release, then shows
# tiercache at work on a private redis-server (unix socket in a temp dir, no persistence):
#   1. the library: examples/hello_redis (the client) and examples/flight_search (the cache);
#   2. the daemon: tiercached as a caching proxy (examples/proxy-demo.toml) in front of
#      examples/demo_upstream, a slow upstream API, with two curl calls: a slow MISS, a fast HIT;
#   3. its MCP server, as an LLM agent's host would call it: initialize, tools/list, tools/call.
# In a terminal it then keeps serving until Ctrl-C, so you can try the printed curl lines.
# Pass a Redis URL to use your own server for the library part instead.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
# ccache (when installed) may reuse objects compiled in another clone of the repository.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset release >/dev/null
cmake --build --preset release --target example_hello_redis example_flight_search \
  example_demo_upstream tiercached
bin=./build/release

if [ $# -gt 0 ]; then
  "$bin/examples/hello_redis" "$1"
  exec "$bin/examples/flight_search" "$1"
fi

dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

# Waits up to 10 s for `pattern` in `file`, then prints the first match.
wait_for_line() {
  for _ in $(seq 200); do
    if grep -o -m1 "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "run.sh: timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --save '' \
  --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 100); do
  redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis="unix://$dir/redis.sock"
echo "== private redis-server (pid ${pids[0]}) on $redis"
"$bin/examples/hello_redis" "$redis"
echo
echo "== the two-tier cache in front of a slow upstream"
"$bin/examples/flight_search" "$redis"

echo
echo "== tiercached: a caching proxy in front of a slow upstream API"
"$bin/examples/demo_upstream" --listen 127.0.0.1:0 --delay-ms 300 >"$dir/upstream.log" 2>&1 &
pids+=($!)
upstream=$(wait_for_line "$dir/upstream.log" '127\.0\.0\.1:[0-9]*')
sed "s/127\.0\.0\.1:9090/$upstream/" examples/proxy-demo.toml >"$dir/tiercached.toml"
"$bin/src/server/tiercached" --config "$dir/tiercached.toml" --redis "$redis" \
  --listen 127.0.0.1:0 >"$dir/tiercached.log" 2>&1 &
pids+=($!)
daemon=$(wait_for_line "$dir/tiercached.log" 'listening on 127\.0\.0\.1:[0-9]*' | sed 's/listening on //')
echo "demo upstream (300 ms per answer) on http://$upstream, tiercached on http://$daemon"
url="http://$daemon/flights?origin=LHR&destination=JFK&date=2026-12-24"
for attempt in first second; do
  echo
  echo "\$ curl -si '$url'    # $attempt call"
  curl -s -o "$dir/body" -D "$dir/headers" -w '%{time_total}' "$url" >"$dir/time"
  grep -i -E '^(HTTP|X-Cache|Age)' "$dir/headers" | tr -d '\r'
  echo "($(awk '{printf "%.1f ms", $1 * 1000}' "$dir/time"), $(wc -c <"$dir/body") bytes of JSON)"
done

echo
echo "== tiercached's MCP server (the tools an LLM agent calls), Streamable HTTP at /mcp"
session=""
mcp() {  # mcp JSON: POSTs one JSON-RPC message in the session, prints the reply's body
  curl -s -D "$dir/mcp.headers" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' ${session:+-H "Mcp-Session-Id: $session"} \
    --data-binary "$1" "http://$daemon/mcp"
}
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",
  "capabilities":{},"clientInfo":{"name":"run.sh","version":"1"}}}' >/dev/null
session=$(tr -d '\r' <"$dir/mcp.headers" | awk -F': *' 'tolower($1) == "mcp-session-id" { print $2 }')
mcp '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
echo "session $session; tools: $(mcp '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' |
  grep -o '"name":"[a-z_]*"' | sed 's/"name":"\(.*\)"/\1/' | tr '\n' ' ')"
for call in '"cache_set","arguments":{"namespace":"notes","key":"greeting","value":"hello","ttl":"10m"}' \
  '"cache_get","arguments":{"namespace":"notes","key":"greeting"}' \
  '"cache_get","arguments":{"namespace":"nowhere","key":"greeting"}'; do
  echo "\$ tools/call {\"name\":$call}"
  reply=$(mcp "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":$call}}")
  # A result's structured content; a tool error's sentence (what the model reads).
  grep -o '"structuredContent":{[^}]*}' <<<"$reply" ||
    { grep -o '"isError":true' <<<"$reply"; grep -o '"text":"[^"]*"' <<<"$reply"; } | tr '\n' ' '
  echo
done

echo
echo "Dashboard: http://$daemon/ (in a browser)"
echo "Stats: curl -s http://$daemon/v1/stats    Metrics: curl -s http://$daemon/metrics"
echo "Try:   curl -si 'http://$daemon/weather?city=Paris'   and   curl -si 'http://$daemon/events?location=Paris&date=2026-12-24'"
if [ -t 0 ]; then
  echo "tiercached keeps serving until Ctrl-C."
  wait "${pids[2]}" || true
fi
