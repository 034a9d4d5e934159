#!/bin/sh
# Compares the built library's ABI with the committed abidw baseline.
# Usage: check_abidiff.sh LIBFER_SO BASELINE.abi HEADERS_DIR
set -eu
so=$1
baseline=$2
headers=$3
if ! command -v abidiff >/dev/null 2>&1; then
  echo "SKIP: abidiff not installed (Debian package abigail-tools)" >&2
  exit 77
fi
code=0
abidiff --headers-dir2 "$headers" "$baseline" "$so" || code=$?
if [ $code -eq 0 ]; then
  echo "ABI identical to $baseline"
  exit 0
fi
echo "error: abidiff exit $code: the ABI differs from $baseline." >&2
echo "       An intended change: run tools/update-abi.sh and explain it in the commit." >&2
exit 1
