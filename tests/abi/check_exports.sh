#!/bin/sh
# Compares the dynamic symbols libfer exports with the committed list.
# Usage: check_exports.sh LIBFER_SO EXPECTED_LIST
# An ABI change is a deliberate edit of tests/abi/exported-symbols.txt (run
# tools/update-abi.sh and explain the change in the commit).
set -eu
so=$1
expected=$2
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' |
  sed 's/@.*//' | sort -u >"$actual"
status=0
if grep -v '^fer_' "$actual"; then
  echo "error: the symbols above are exported without the fer_ prefix" >&2
  status=1
fi
if ! diff -u "$expected" "$actual"; then
  echo "error: exported symbols differ from $expected (lines with + are new," >&2
  echo "       - are gone); run tools/update-abi.sh if the change is intended" >&2
  status=1
fi
# Every export must carry the version node, so later releases can add _v2s.
unversioned=$(nm -D --defined-only "$so" | awk '$3 ~ /^fer_/ && $3 !~ /@@?LIBFER_/ {print $3}')
if [ -n "$unversioned" ]; then
  echo "error: symbols without a LIBFER_ version node: $unversioned" >&2
  status=1
fi
# Every function the headers declare with FER_API must be exported.
headers_dir=$(dirname "$expected")/../../include
declared=$(mktemp)
trap 'rm -f "$actual" "$declared"' EXIT
cat "$headers_dir"/fer.h "$headers_dir"/fer/*.h | tr '\n' ' ' |
  grep -o 'FER_API[^;(]*(' | grep -o 'fer_[a-z0-9_]*[ ]*($' | tr -d ' (' | sort -u >"$declared"
missing=$(comm -23 "$declared" "$actual")
if [ -n "$missing" ]; then
  echo "error: declared with FER_API in include/ but not exported: $missing" >&2
  status=1
fi
[ $status -eq 0 ] && echo "$(wc -l <"$actual") exported symbols match $expected"
exit $status
