#!/usr/bin/env bash
# test.sh: the README's test command. On a fresh Debian 12 machine (as root) it installs what is
# missing, builds the libFuzzer targets with clang and everything else with g++ under
# AddressSanitizer + UBSan and -Werror, then runs the whole suite with ctest: unit, real
# redis-server, fault, fuzz (corpus replay and a bounded libFuzzer run), lint and the
# find_package consumer. The last lines are ctest's own summary.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
# ccache (when installed) may reuse objects compiled in another clone of the repository.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

echo "== fuzz targets (clang, libFuzzer)"
cmake --preset fuzz >/dev/null
# Only the fuzzers: each links just the layers it exercises.
mapfile -t fuzzers < <(ls fuzz/*_fuzz.cpp | xargs -n1 basename | sed 's/\.cpp$//')
cmake --build --preset fuzz --target "${fuzzers[@]}"

echo "== library, tests, benchmarks, examples (g++, ASan+UBSan, -Werror)"
cmake --preset asan >/dev/null
cmake --build --preset asan

echo "== test suite"
ctest --preset asan "$@"
