#!/bin/sh
# Configures and builds the libFuzzer build: clang, the library compiled
# with coverage hooks and ASan+UBSan, every harness in tests/fuzz linked
# with -fsanitize=fuzzer,address,undefined. tools/run-tests.sh (CI's short
# runs) and tools/fuzz-campaign.sh (long runs) both build through it, so the
# two fuzz the same code.
#   tools/fuzz-build.sh DIR [--wipe] [--harnesses]
# configures DIR when it has no build yet (--wipe: afresh), then builds
# everything, or with --harnesses only the tests/fuzz/fuzz_* programs.
set -eu
cd "$(dirname "$0")/.."
dir=${1:?usage: tools/fuzz-build.sh DIR [--wipe] [--harnesses]}
shift
wipe=false
targets=""
for arg; do
  case $arg in
  --wipe) wipe=true ;;
  --harnesses)
    for f in tests/fuzz/fuzz_*.c; do
      targets="$targets tests/fuzz/$(basename "$f" .c)"
    done
    ;;
  *)
    echo "fuzz-build.sh: unknown option $arg" >&2
    exit 2
    ;;
  esac
done
# (static and without OpenMP: libFuzzer follows one thread, and a shared
# library would hide the library's coverage from the harness.)
fuzz_opts="-Dfuzzers=enabled -Db_lundef=false -Ddefault_library=static -Dopenmp=disabled
  -Dc_args=-fsanitize=fuzzer-no-link,address,undefined
  -Dc_link_args=-fsanitize=address,undefined
  -Dcpp_args=-fsanitize=fuzzer-no-link,address,undefined
  -Dcpp_link_args=-fsanitize=address,undefined"
if $wipe || [ ! -f "$dir/build.ninja" ]; then
  # shellcheck disable=SC2086  # the options are split into words on purpose
  CC=clang CXX=clang++ meson setup "$dir" --wipe $fuzz_opts >/dev/null 2>&1 ||
    CC=clang CXX=clang++ meson setup "$dir" $fuzz_opts
fi
# shellcheck disable=SC2086
ninja -C "$dir" $targets
