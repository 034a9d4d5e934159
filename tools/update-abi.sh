#!/bin/sh
# Regenerates the committed ABI records from a build:
#   lib/libfer.map                 the version script: one node per release
#   tests/abi/exported-symbols.txt the names the shared library must export
#   tests/abi/libfer.abi           the abidw baseline abidiff compares with
# The public names are the fer_* functions (not fer__* internals) defined in
# the static library. Names already in a node of lib/libfer.map stay there;
# new names go into NODE (default: the newest node in the map; a new NODE
# is appended, inheriting the newest one). A name that disappeared is an
# error: a released symbol is never removed. Run it only for an intended
# ABI change, and say why in the commit.
#   Usage: tools/update-abi.sh [BUILD_DIR] [NODE]
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
map="$top/lib/libfer.map"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm --defined-only "$build/lib/libfer.a" |
  awk '$2 ~ /^[TDR]$/ && $3 ~ /^fer_[a-z0-9]/ {print $3}' | sort -u >"$tmp/now"
# node<TAB>name for every name in the current map, nodes in file order.
awk '/^[A-Z_0-9.]+ *\{/ {node=$1} /^    fer_/ {n=$1; sub(/;$/, "", n); print node "\t" n}' \
  "$map" >"$tmp/old"
awk '/^[A-Z_0-9.]+ *\{/ {print $1}' "$map" >"$tmp/nodes"
newest=$(tail -n 1 "$tmp/nodes")
node=${2:-$newest}
cut -f2 "$tmp/old" | sort -u >"$tmp/oldnames"
gone=$(comm -23 "$tmp/oldnames" "$tmp/now")
if [ -n "$gone" ]; then
  echo "update-abi: exported names would disappear (never remove a released symbol):" >&2
  echo "$gone" >&2
  exit 1
fi
comm -13 "$tmp/oldnames" "$tmp/now" | sed "s/^/$node	/" >>"$tmp/old"
grep -qx "$node" "$tmp/nodes" || echo "$node" >>"$tmp/nodes"
{
  echo "/* libfer's exported symbols, one node per release; a later node"
  echo " * inherits the earlier ones. Maintained by tools/update-abi.sh, which"
  echo " * never moves or removes a name from a node. */"
  prev=
  while read -r n; do
    echo "$n {"
    echo "  global:"
    awk -F'\t' -v n="$n" '$1 == n {print "    " $2 ";"}' "$tmp/old" | sort
    if [ -z "$prev" ]; then
      echo "  local:"
      echo "    *;"
      echo "};"
    else
      echo "} $prev;"
    fi
    prev=$n
  done <"$tmp/nodes"
} >"$map"
ninja -C "$build" >/dev/null
so=$(ls "$build"/lib/libfer.so.*.*.* | head -n 1)
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' |
  sed 's/@.*//' | sort -u >"$top/tests/abi/exported-symbols.txt"
abidw --headers-dir "$top/include" --no-corpus-path --out-file "$top/tests/abi/libfer.abi" "$so"
echo "updated lib/libfer.map ($(wc -l <"$tmp/nodes") nodes), tests/abi/exported-symbols.txt ($(wc -l <"$top/tests/abi/exported-symbols.txt") symbols) and tests/abi/libfer.abi"
