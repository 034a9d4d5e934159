#!/bin/sh
# Installs from Debian's archive what libfer needs (README: Quickstart).
#   tools/install-deps.sh build  meson, ninja and gcc to build libfer, and the
#                                quickstart photo (astronaut.png)
#   tools/install-deps.sh test   build's packages, plus everything
#                                tools/run-tests.sh uses
#   tools/install-deps.sh python what `pip install ./bindings/python` and the
#                                README's Python example use
#   tools/install-deps.sh cross  build's packages, plus the cross compilers
#                                and qemu-user of tools/cross-check.sh
# This is the project's one package list: the README's two commands and
# .ci/run call it. Run it as root on Debian 12. Packages already installed
# are left alone, and nothing is fetched when none is missing.
#
# Recommends are not installed, so every package a step needs is named here
# even when a named one would usually pull it in (gcc only recommends
# libc6-dev, without which nothing links). tools/fresh-machine-check.sh
# proves the lists on a bare Debian 12.
set -eu

build_packages="
  meson ninja-build
  gcc libc6-dev
  python3-skimage
"
# python3-skimage ships the quickstart photo,
# /usr/lib/python3/dist-packages/skimage/data/astronaut.png.

test_packages="
  g++ clang pkg-config abigail-tools
  libclang-rt-14-dev
  python3 python3-numpy python3-pytest python3-pil python3-pip python3-setuptools
  python3-opencv opencv-data
  python3-mesonpy python3-venv python3-ipython git
  locales
  libopenmpi-dev openmpi-bin parallel
  chromium lld llvm-14 wasi-libc libclang-rt-14-dev-wasm32
  python3-onnx python3-torch
"
# g++: the C++ header compile test. clang: its -Werror build, the sanitizer
#   builds and the fuzzers; libclang-rt-14-dev holds libFuzzer and the
#   sanitizer runtimes. pkg-config: the consumer built against an installed
#   libfer. abigail-tools: abidiff for the ABI check.
# python3-*: the Python binding's tests (pip and setuptools: its offline
#   `pip install`) and the scripts that compare libfer with Pillow, NumPy and
#   OpenCV; opencv-data holds OpenCV's cascade files.
# python3-mesonpy, python3-venv, git: suite pip (pip install of a copy of
#   the checkout's files, listed by git, into a fresh venv);
#   python3-ipython: the notebook display test.
# libopenmpi-dev, openmpi-bin: examples/mpi_train and suite mpi; parallel:
#   the GNU parallel batch-analysis recipe (test_cli_batch).
# chromium, lld, llvm-14 (llvm-ar-14, llvm-strip-14), wasi-libc,
#   libclang-rt-14-dev-wasm32: suite web, which
#   cross-builds libfer.wasm (cross/wasm32-wasi.ini) and runs its page in
#   headless Chromium.
# python3-onnx, python3-torch: the ONNX checks (tests/nn/test_onnx.py):
#   onnx.checker and onnx's reference shapes on our exports, and imports of
#   graphs written by torch.onnx.export.
# locales: glibc's locale sources, from which the tests compile de_DE.UTF-8
#   (a comma as the decimal point).

python_packages="
  python3 python3-venv python3-mesonpy python3-numpy python3-opencv
"
# python3-venv: the virtual environment pip installs into (its pip comes
# from the python3-pip-whl that python3-venv pulls in); python3-mesonpy:
# the build backend, which builds libfer with meson and puts libfer.so in
# the package (--no-build-isolation: there is no package index to fetch it
# from); python3-numpy, python3-opencv: the example reads the photo with
# cv2.imread. The build's packages come along: meson, ninja, gcc, and
# python3-skimage for the photo.
cross_packages="
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  gcc-s390x-linux-gnu libc6-dev-s390x-cross
  qemu-user
"
# gcc-ARCH-linux-gnu, libc6-dev-ARCH-cross: cross/ARCH-linux-gnu.ini (the
#   compiler brings the target's libgomp); qemu-user: the cross file's
#   exe_wrapper (qemu-aarch64, qemu-s390x), which runs the test programs.

case ${1:-} in
build) packages=$build_packages ;;
test) packages="$build_packages $test_packages" ;;
python) packages="$build_packages $python_packages" ;;
cross) packages="$build_packages $cross_packages" ;;
*)
  echo "usage: $0 build|test|python|cross" >&2
  exit 2
  ;;
esac

missing=""
for p in $packages; do
  dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' ||
    missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all $1 packages are installed"
  exit 0
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh system has no package lists yet; an old list may name versions
# the archive no longer has.
apt-get update -q
# shellcheck disable=SC2086  # the list is split into package names on purpose
apt-get install -y -q --no-install-recommends $missing
