#!/bin/sh
# valgrind memcheck on a short soak (bench/soak_analyze.c: decode, analyze,
# annotate, encode with the built-in model and cascade, one library thread)
# and on `fer analyze --json --annotate` over the test photo: no invalid
# access, no use of uninitialised values, nothing definitely or indirectly
# lost. valgrind is slow (about 50x), hence VALGRIND_ITERATIONS (default 30).
#   tools/valgrind-soak.sh [BUILD_DIR]     (default: build)
# Exit status 1 when valgrind reports an error. Not run by CI (minutes).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${VALGRIND_ITERATIONS:-30}
image=tests/fixtures/analyze/face_96.png
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
memcheck() { # log name, command...
  log=$1
  shift
  valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=1 \
    --log-file="$work/$log" "$@"
}
status=0
echo "== soak_analyze, $iterations iterations"
memcheck soak.log "$build/bench/soak_analyze" "$image" "$iterations" 100000 || status=1
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|in use at exit" \
  "$work/soak.log" || true
echo "== fer analyze --json --annotate"
memcheck fer.log "$build/examples/fer/fer" analyze --json --threads 1 \
  --annotate "$work/annotated" "$image" >/dev/null || status=1
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|in use at exit" \
  "$work/fer.log" || true
[ "$status" = 0 ] || { echo "valgrind found errors:"; cat "$work/soak.log" "$work/fer.log"; }
exit $status
