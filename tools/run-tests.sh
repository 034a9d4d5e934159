#!/bin/sh
# The whole test suite, as CI runs it (README: "Run the tests").
#   1. gcc, -Werror, every suite (unit, golden, consumers, ABI, data tests,
#      pip: pip install from a copy of the tree, about 1.5 minutes; mpi:
#      examples/mpi_train on 1 and 2 Open MPI ranks, when installed)
#   2. clang, -Werror, build only (its tests run in the sanitizer build)
#   3. ASan + UBSan (clang), every suite but the consumers and ABI checks
#   4. TSan (clang, without OpenMP, whose runtime TSan cannot see), the
#      suites that share handles across threads
#   5. every libFuzzer harness for a bounded time on its seed corpus
# Build folders are build-ci-*; FER_FUZZ_SECONDS sets the time per harness.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FER_FUZZ_SECONDS:-10}
summary=""

step() { printf '\n==== %s ====\n' "$*"; }

run_suite() { # build-dir, then meson test arguments
  dir=$1
  shift
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "$@"
}

step "gcc -Werror: build and all tests"
CC=gcc CXX=g++ meson setup build-ci-gcc --wipe -Dwerror=true -Dbuildtype=debugoptimized \
  -Dpython=enabled >/dev/null 2>&1 ||
  CC=gcc CXX=g++ meson setup build-ci-gcc -Dwerror=true -Dbuildtype=debugoptimized -Dpython=enabled
ninja -C build-ci-gcc
run_suite build-ci-gcc
summary="$summary gcc:ok"

if command -v clang >/dev/null 2>&1; then
  step "clang -Werror: build"
  CC=clang CXX=clang++ meson setup build-ci-clang --wipe -Dwerror=true -Dfuzzers=disabled >/dev/null 2>&1 ||
    CC=clang CXX=clang++ meson setup build-ci-clang -Dwerror=true -Dfuzzers=disabled
  ninja -C build-ci-clang
  summary="$summary clang:ok"

  step "ASan + UBSan: build and tests"
  CC=clang CXX=clang++ meson setup build-ci-asan --wipe -Db_sanitize=address,undefined \
    -Db_lundef=false -Dfuzzers=disabled -Dbuildtype=debugoptimized -Dc_args=-fno-sanitize-recover=undefined \
    >/dev/null 2>&1 ||
    CC=clang CXX=clang++ meson setup build-ci-asan -Db_sanitize=address,undefined \
      -Db_lundef=false -Dfuzzers=disabled -Dbuildtype=debugoptimized -Dc_args=-fno-sanitize-recover=undefined
  ninja -C build-ci-asan
  # (not the mpi suite: Open MPI's own allocations would count as leaks)
  run_suite build-ci-asan --no-suite consumers --no-suite abi --no-suite slow --no-suite shared-data --no-suite web \
    --no-suite pip --no-suite mpi \
    --timeout-multiplier 4
  summary="$summary asan+ubsan:ok"

  step "TSan: concurrency tests"
  CC=clang CXX=clang++ meson setup build-ci-tsan --wipe -Db_sanitize=thread -Db_lundef=false \
    -Dopenmp=disabled -Dfuzzers=disabled -Ddefault_library=static >/dev/null 2>&1 ||
    CC=clang CXX=clang++ meson setup build-ci-tsan -Db_sanitize=thread -Db_lundef=false \
      -Dopenmp=disabled -Dfuzzers=disabled -Ddefault_library=static
  ninja -C build-ci-tsan
  run_suite build-ci-tsan --suite threads --timeout-multiplier 4
  summary="$summary tsan:ok"

  step "libFuzzer harnesses, ${fuzz_seconds}s each"
  tools/fuzz-build.sh build-ci-fuzz --wipe
  FER_FUZZ_SECONDS=$fuzz_seconds run_suite build-ci-fuzz --suite fuzz --num-processes 1 \
    --timeout-multiplier 10
  summary="$summary fuzz:ok"
else
  echo "clang not found: skipping the clang, sanitizer and fuzz builds" >&2
fi

step "summary"
echo "$summary"
