#!/usr/bin/env bash
# Checks (or with --fix, rewrites) the formatting of the project's C and C++ sources.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files -co --exclude-standard -- 'native/*.c' 'native/*.cc' 'native/*.h' 'tests/*.c' | sort -u)
[ ${#files[@]} -gt 0 ] || exit 0
if ! command -v clang-format >/dev/null; then
  echo "clang-format is not installed (apt-get install clang-format); C/C++ formatting not checked" >&2
  exit 1
fi
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
