#!/bin/sh
# Builds libfer for another architecture with Debian's cross compiler and
# runs its test suite under qemu-user, then swaps portable files between
# that architecture and this machine.
#
#   tools/cross-check.sh aarch64|s390x [--no-suite]
#
# aarch64: 64-bit ARM (Raspberry Pi class), the build without the x86 GEMM
#   kernels. s390x: big-endian; proves that models, cascades and training
#   states are little-endian on disk (docs/*-format.md).
# Steps:
#   1. tools/install-deps.sh cross installs what is missing (the cross
#      compilers and libcs, qemu-user, meson, ninja, gcc);
#   2. build-ARCH: meson with cross/ARCH-linux-gnu.ini, -Werror;
#   3. meson test there, every test program running under qemu-ARCH (the
#      cross file's exe_wrapper), each test's timeout times
#      $FER_CROSS_TIMEOUT_MULTIPLIER (default 30: emulation is 5 to 20 times
#      slower, and more on a busy machine; test_analyzer_alloc, 60 s
#      allowed, took 11 minutes under qemu-aarch64 beside a training run). Left out: the tests that are host scripts (Python
#      or shell) driving the built programs or loading libfer.so, which the
#      host cannot execute without binfmt_misc (their names are printed),
#      and the suites slow, shared-data, web, pip, mpi, python, consumers
#      and abi (host tools reading the library: pkg-config builds,
#      abidiff); layout (Python on the sources) runs. --no-suite skips
#      this step;
#   4. tests/portability/test_file_portability: writes a set of files (model,
#      float16 model, cascades, training state, outputs) under qemu and
#      checks it with a native build (build-cross-native), then the other
#      way round: same bytes, same predictions and detections, the state
#      resumes to the same weights and history.
# Exits non-zero when a step fails. Run it at low priority on a busy
# machine: nice -n 15 tools/cross-check.sh s390x
set -eu
cd "$(dirname "$0")/.."
arch=${1:-}
case $arch in
aarch64 | s390x) ;;
*)
  echo "usage: $0 aarch64|s390x [--no-suite]" >&2
  exit 2
  ;;
esac
run_suite=true
[ "${2:-}" = --no-suite ] && run_suite=false

step() { printf '\n==== %s: %s ====\n' "$arch" "$*"; }

step "packages"
tools/install-deps.sh cross

build=build-$arch
native="build-cross-native"
step "build ($build)"
meson setup "$build" --cross-file "cross/$arch-linux-gnu.ini" -Dwerror=true >/dev/null 2>&1 ||
  meson setup "$build" --reconfigure --cross-file "cross/$arch-linux-gnu.ini" -Dwerror=true
ninja -C "$build"

if $run_suite; then
  step "test suite under qemu-$arch"
  # Test programs built for the target (files of the build folder) run
  # under the wrapper; a test whose command is a host script or program
  # (python3, a shell script) runs built programs by path and cannot.
  tests=$(meson introspect --tests "$build" | /usr/bin/python3 -c '
import json, os, sys
build = os.path.realpath(sys.argv[1])
skip_suites = {"slow", "shared-data", "web", "pip", "mpi", "python", "consumers", "abi"}
keep, scripts = [], []
for t in json.load(sys.stdin):
    suites = {s.split(":", 1)[-1] for s in t["suite"]}
    if suites & skip_suites:
        continue
    built = os.path.realpath(t["cmd"][0]).startswith(build + os.sep)
    if built or suites == {"layout"}:
        keep.append(t["name"])
    else:
        scripts.append(t["name"])
print("left out (host scripts):", " ".join(sorted(set(scripts))), file=sys.stderr)
print("\n".join(sorted(set(keep))))
' "$build")
  start=$(date +%s)
  # shellcheck disable=SC2086  # one argument per test name
  meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" \
    --timeout-multiplier "${FER_CROSS_TIMEOUT_MULTIPLIER:-30}" $tests
  echo "$arch: test suite took $(($(date +%s) - start)) s"
fi

step "files across $arch and $(uname -m)"
meson setup "$native" -Dwerror=true >/dev/null 2>&1 || meson setup "$native" --reconfigure -Dwerror=true
ninja -C "$native" tests/portability/test_file_portability
swap=$(mktemp -d)
trap 'rm -rf "$swap"' EXIT
mkdir "$swap/from-$arch" "$swap/from-native"
# The program finds the cascades it encodes under FER_SOURCE_ROOT.
export FER_SOURCE_ROOT="$PWD"
qemu="qemu-$arch -L /usr/$arch-linux-gnu"
$qemu "$build/tests/portability/test_file_portability" write "$swap/from-$arch"
"$native/tests/portability/test_file_portability" check "$swap/from-$arch"
"$native/tests/portability/test_file_portability" write "$swap/from-native"
$qemu "$build/tests/portability/test_file_portability" check "$swap/from-native"
echo "$arch: files written under qemu-$arch load natively and the other way round"
