#!/bin/sh
# Builds and runs tests/consumers/consumer.c two ways:
#   subproject  an outside meson project vendoring libfer in subprojects/
#   pkgconfig   against libfer installed into a temporary prefix
# Usage: run_consumers.sh subproject|pkgconfig SOURCE_ROOT BUILD_ROOT
set -eu
mode=$1
src=$2
build=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $mode in
subproject)
  mkdir -p "$work/proj/subprojects/libfer"
  cp "$src/tests/consumers/subproject/meson.build" "$src/tests/consumers/consumer.c" "$work/proj/"
  # A vendored copy: the source tree without builds or git metadata.
  tar -C "$src" --exclude='./build*' --exclude='./_build*' --exclude=./.git \
      -cf - . | tar -C "$work/proj/subprojects/libfer" -xf -
  meson setup "$work/b" "$work/proj" >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
  ninja -C "$work/b" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
  "$work/b/consumer"
  ;;
pkgconfig)
  meson install -C "$build" --no-rebuild --destdir "$work/root" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }
  pc=$(find "$work/root" -name libfer.pc | head -n 1)
  [ -n "$pc" ] || { echo "libfer.pc was not installed"; exit 1; }
  export PKG_CONFIG_PATH=$(dirname "$pc")
  export PKG_CONFIG_SYSROOT_DIR="$work/root"
  cflags=$(pkg-config --cflags libfer)
  libs=$(pkg-config --libs libfer)
  cc -std=c11 -Wall -Wextra -Werror $cflags "$src/tests/consumers/consumer.c" -o "$work/consumer" $libs
  libdir=$(dirname "$(find "$work/root" -name 'libfer.so' | head -n 1)")
  LD_LIBRARY_PATH=$libdir "$work/consumer"
  # The program must have used the installed shared library, not another one.
  LD_LIBRARY_PATH=$libdir ldd "$work/consumer" | grep -q "$work/root" ||
    { echo "consumer did not link the installed libfer.so"; exit 1; }
  ;;
*)
  echo "usage: $0 subproject|pkgconfig SOURCE_ROOT BUILD_ROOT" >&2
  exit 2
  ;;
esac
