#!/bin/sh
# Prepares FER2013 in both layouts in the build folder for the `shared-data` suite,
# then runs the test program given as arguments. Skips (exit 77) when
# ../shared/data is absent. Written once, reused by later runs:
#   $FER_BUILD_ROOT/fer2013/fer2013.csv     (make_csv.py, plain text)
#   $FER_BUILD_ROOT/fer2013/fer2013.csv.gz  (the same, gzip-compressed)
#   $FER_BUILD_ROOT/fer2013/fer2013/{train,test}/<class>/*.jpg  (the tar)
set -eu
data=${FER_SHARED_DATA:-}
if [ -z "$data" ] || [ ! -f "$data/fer2013/make_csv.py" ]; then
  echo "SKIP: FER2013 not found in ../shared/data (FER_SHARED_DATA)" >&2
  exit 77
fi
if [ ! -x /usr/bin/python3 ]; then
  echo "SKIP: /usr/bin/python3 (with python3-pil) is needed to write the CSV" >&2
  exit 77
fi
out=$FER_BUILD_ROOT/fer2013
mkdir -p "$out"
if [ ! -f "$out/fer2013.csv" ]; then
  /usr/bin/python3 "$data/fer2013/make_csv.py" "$data/fer2013/fer2013-folders.tar.gz" \
    "$out/fer2013.csv.part" >&2
  mv "$out/fer2013.csv.part" "$out/fer2013.csv"
fi
if [ ! -f "$out/fer2013.csv.gz" ]; then
  gzip -c -6 "$out/fer2013.csv" > "$out/fer2013.csv.gz.part"
  mv "$out/fer2013.csv.gz.part" "$out/fer2013.csv.gz"
fi
if [ ! -d "$out/fer2013/train" ]; then
  rm -rf "$out/extract.part"
  mkdir -p "$out/extract.part"
  tar -xzf "$data/fer2013/fer2013-folders.tar.gz" -C "$out/extract.part"
  mv "$out/extract.part/fer2013" "$out/fer2013"
  rm -rf "$out/extract.part"
fi
exec "$@"
