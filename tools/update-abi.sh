#!/bin/sh
# Regenerates the committed ABI records from a build: the exported symbol
# list, the explicit symbol list in lib/libfer.map's current node, and the
# abidw baseline. Run it only for an intended ABI change, and say why in the
# commit. Usage: tools/update-abi.sh [BUILD_DIR]
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
so=$(ls "$build"/lib/libfer.so.*.*.* | head -n 1)
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' |
  sed 's/@.*//' | sort -u >"$top/tests/abi/exported-symbols.txt"
abidw --headers-dir "$top/include" --no-corpus-path --out-file "$top/tests/abi/libfer.abi" "$so"
echo "updated tests/abi/exported-symbols.txt ($(wc -l <"$top/tests/abi/exported-symbols.txt") symbols) and tests/abi/libfer.abi"
