#!/bin/sh
# Soak: 10^5 analyses in one process from C and from Python, the RSS
# sampled 100 times and required flat: at most BOUND_KIB (default 1024)
# above its value after the warm-up (the first 1%). With the small model of
# tests/analyze/make_test_model (the built-in model's forward pass would make
# 10^5 analyses take 15 minutes of a free core each), then a shorter run
# (SOAK_DEFAULT_ITERATIONS, default 10^4) with the built-in model. Prints
# the samples and a summary line per run; exit status 1 when any run fails.
#   tools/soak.sh [BUILD_DIR]      (default: build; needs bench/ and tests/)
# Environment: SOAK_ITERATIONS (100000), SOAK_DEFAULT_ITERATIONS (10000),
# SOAK_BOUND_KIB (1024). Not run by CI (minutes); docs/HACKING.md.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${SOAK_ITERATIONS:-100000}
default_iterations=${SOAK_DEFAULT_ITERATIONS:-10000}
bound=${SOAK_BOUND_KIB:-1024}
image=tests/fixtures/analyze/face_96.png
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/tests/analyze/make_test_model" "$work/small.ferm"
python=/usr/bin/python3
[ -x "$python" ] || python=python3
status=0
run() { # name, command...
  name=$1
  shift
  echo "== $name"
  if "$@" >"$work/out" 2>&1; then result=ok; else result=FAIL; status=1; fi
  cat "$work/out"
  echo "== $name: $result: $(grep 'rss start' "$work/out" || echo 'no summary')"
}
run "C, small model, $iterations analyses" \
  "$build/bench/soak_analyze" "$image" "$iterations" "$bound" "$work/small.ferm"
run "Python, small model, $iterations analyses" \
  env PYTHONPATH=bindings/python LIBFER_LIBRARY="$build/lib/libfer.so" \
  "$python" bench/soak_analyze.py "$image" "$iterations" "$bound" "$work/small.ferm"
run "C, built-in model, $default_iterations analyses" \
  "$build/bench/soak_analyze" "$image" "$default_iterations" "$bound"
exit $status
