#!/bin/sh
# Runs the binding's pytest suite: run_pytest.sh PYTHON TESTS_DIR [PYTEST ARGS].
# Skips (exit 77) when pytest is not installed; pytest's "no tests" (5) fails.
#
# A library built with -Db_sanitize=address needs the sanitizer runtime
# loaded before Python starts (clang links it into executables only): it is
# preloaded here, with leak detection off because CPython itself keeps
# memory until exit. Without that runtime the suite is skipped, never run
# against some other libfer.
py=$1
tests=$2
shift 2
if ! "$py" -c "import pytest" 2>/dev/null; then
  echo "SKIP: pytest is not installed for $py (Debian package python3-pytest)"
  exit 77
fi
if [ -n "${LIBFER_LIBRARY:-}" ] && grep -q __asan_init "$LIBFER_LIBRARY" 2>/dev/null; then
  runtime=""
  for cc in clang gcc; do
    for name in libclang_rt.asan-x86_64.so libclang_rt.asan-aarch64.so libasan.so; do
      candidate=$($cc -print-file-name=$name 2>/dev/null) || continue
      if [ -f "$candidate" ]; then runtime=$candidate; break 2; fi
    done
  done
  if [ -z "$runtime" ]; then
    echo "SKIP: $LIBFER_LIBRARY is built with AddressSanitizer and no shared ASan runtime was found"
    exit 77
  fi
  echo "AddressSanitizer library: preloading $runtime"
  export LD_PRELOAD="$runtime${LD_PRELOAD:+:$LD_PRELOAD}"
  export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"
fi
exec "$py" -m pytest -q -p no:cacheprovider -rs "$tests" "$@"
