#!/usr/bin/env bash
# run.sh: the README's run command. Installs what is missing, builds in Release, starts a private
# redis-server (unix socket in a temp dir, no persistence) and runs examples/hello_redis (the
# client) and examples/flight_search (the two-tier cache) against it, then stops that server.
# Pass a Redis URL to use your own server instead.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target example_hello_redis example_flight_search

if [ $# -gt 0 ]; then
  ./build/release/examples/hello_redis "$1"
  exec ./build/release/examples/flight_search "$1"
fi

dir=$(mktemp -d)
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --save '' \
  --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && break
  sleep 0.05
done
echo "== private redis-server (pid $redis_pid) on unix://$dir/redis.sock"
./build/release/examples/hello_redis "unix://$dir/redis.sock"
echo
echo "== the two-tier cache in front of a slow upstream"
./build/release/examples/flight_search "unix://$dir/redis.sock"
