#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages tiercache needs to build, test and run.
# Idempotent: when every package is present it changes nothing and takes well under a second.
# Run as root (or with sudo). Debian packages only; nothing is downloaded from elsewhere.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config git clang clang-format clang-tidy libclang-rt-dev
  # libraries
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev libssl-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libxxhash-dev
  libzstd-dev liblz4-dev nlohmann-json3-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libhiredis-dev redis-server redis-tools openssl
  procps
  # promtool checks the daemon's /metrics (tests/server/promtool_test.cpp)
  prometheus
  # the dashboard page's test drives Debian's headless Chromium (tests/dashboard/)
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
# The MCP tests' client (tests/mcp) is node with the MCP SDK from the npm registry. A machine
# may have node from elsewhere (NodeSource's nodejs, which Debian's npm conflicts with): Debian's
# nodejs and npm are installed only when the commands are missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo "$0" "$@"; fi
  echo "install-deps.sh: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packaged redis-server from starting a system instance: tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
