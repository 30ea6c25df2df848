#!/usr/bin/env bash
# screenshot-top.sh: makes docs/images/tiercache-top.png again, the picture of `tiercache top` in
# docs/cli.md and the README. It starts a private redis-server and tiercached on free loopback
# ports, puts a small load on them (tiercache bench, a few misses and writes), runs `tiercache top`
# in a detached tmux window of 100x24, captures the pane with its colours (capture-pane -e),
# turns the ANSI text into an HTML <pre> and has headless Chromium take the picture. Everything
# it started is stopped by its pid at the end.
# Needs: tmux, chromium, redis-server, python3 (Debian packages); the binaries of a build dir.
# Use: scripts/screenshot-top.sh [BUILD_DIR]     (default build/release; build/asan works too)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build/release}
tiercached=$build/src/server/tiercached
tiercache=$build/src/cli/tiercache
out=$root/docs/images/tiercache-top.png
for tool in tmux chromium redis-server python3; do
  command -v "$tool" >/dev/null || { echo "screenshot-top: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
for bin in "$tiercached" "$tiercache"; do
  [ -x "$bin" ] || { echo "screenshot-top: $bin not built (cmake --build $build --target tiercached tiercache_cli)" >&2; exit 1; }
done

dir=$(mktemp -d)
session="tiercache-top-$$"
pids=()
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
http_port=$(free_port)
server="http://127.0.0.1:$http_port"

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$dir" --maxmemory 64mb --maxmemory-policy allkeys-lru >"$dir/redis.log" 2>&1 &
pids+=($!)
cat >"$dir/tiercached.toml" <<TOML
[server]
access_log = "off"

[namespaces.default]

[namespaces.users]
default_ttl = "10m"

[namespaces.flights]
default_ttl = "2m"
TOML
"$tiercached" --config "$dir/tiercached.toml" --listen "127.0.0.1:$http_port" \
  --redis "redis://127.0.0.1:$redis_port" --threads 2 >"$dir/tiercached.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  "$tiercache" --server "$server" --timeout 1 stats >/dev/null 2>&1 && break
  sleep 0.1
done
"$tiercache" --server "$server" stats >/dev/null

# A small load for the picture: reads that mostly hit in two namespaces, some misses, writes.
for i in $(seq 40); do
  "$tiercache" --server "$server" set flights "LHR-JFK:2026-12-$((i % 28 + 1))" "{\"fares\":[$i]}" \
    --content-type application/json >/dev/null
done
"$tiercache" --server "$server" bench --namespace users --duration 12s --concurrency 2 \
  --keys 500 --read-ratio 0.95 >/dev/null 2>&1 &
pids+=($!)
"$tiercache" --server "$server" bench --namespace flights --duration 12s --concurrency 1 \
  --keys 200 --read-ratio 0.8 --no-prefill >/dev/null 2>&1 &
pids+=($!)
sleep 2

tmux new-session -d -s "$session" -x 100 -y 24 \
  "TERM=xterm-256color '$tiercache' --server '$server' top; sleep 60"
sleep 4.5  # a few frames, so the rates are over a full interval
tmux capture-pane -t "$session" -e -p >"$dir/top.ansi"
tmux send-keys -t "$session" q

# ANSI (SGR colours and bold) to HTML spans, in a terminal-like page.
python3 - "$dir/top.ansi" "$dir/top.html" "$server" <<'PY'
import html, re, sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n")
while lines and not re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", lines[-1]).strip():
    lines.pop()  # the pane's empty rows below the frame
text = "\n".join(lines)
open(sys.argv[2] + ".rows", "w").write(str(len(lines)))
text = text.replace(sys.argv[3], "http://127.0.0.1:8080")  # the port of the day is noise
colors = ["#2e3436", "#ef2929", "#8ae234", "#fce94f", "#729fcf", "#ad7fa8", "#34e2e2", "#eeeeec"]
out, style, pos = [], {}, 0
def span(chunk):
    if not chunk:
        return ""
    css = ";".join(f"{k}:{v}" for k, v in style.items())
    return f'<span style="{css}">{html.escape(chunk)}</span>' if css else html.escape(chunk)
for m in re.finditer(r"\x1b\[([0-9;]*)m", text):
    out.append(span(text[pos:m.start()]))
    pos = m.end()
    codes = [int(c) for c in m.group(1).split(";") if c] or [0]
    for c in codes:
        if c == 0: style = {}
        elif c == 1: style["font-weight"] = "bold"
        elif c == 2: style["opacity"] = "0.7"
        elif c == 7: style["background"] = "#eeeeec"; style["color"] = "#1e1e1e"
        elif 30 <= c <= 37: style["color"] = colors[c - 30]
        elif 90 <= c <= 97: style["color"] = colors[c - 90]
        elif c == 39: style.pop("color", None)
out.append(span(text[pos:]))
body = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", "".join(out))
open(sys.argv[2], "w").write(f"""<!doctype html><meta charset="utf-8">
<style>html,body{{margin:0;background:#1e1e1e}}
pre{{margin:0;padding:14px 18px;color:#eeeeec;font:15px/1.35 "DejaVu Sans Mono",monospace}}</style>
<pre>{body}</pre>""")
PY

mkdir -p "$(dirname "$out")"
height=$(( 28 + ($(cat "$dir/top.html.rows") * 81 + 3) / 4 + 4 ))  # padding + rows of 20.25 px
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=960,"$height" --screenshot="$out" "file://$dir/top.html" >"$dir/chromium.log" 2>&1 ||
  { cat "$dir/chromium.log" >&2; exit 1; }
echo "screenshot-top: wrote ${out#"$root"/}"
