#!/usr/bin/env bash
# format.sh: clang-format every C++ file in place; with --check, only report (exit 1 if any differ).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(-i)
[ "${1:-}" = "--check" ] && mode=(--dry-run -Werror)
git ls-files -co --exclude-standard -- '*.hpp' '*.cpp' '*.h' | xargs -r clang-format "${mode[@]}"
