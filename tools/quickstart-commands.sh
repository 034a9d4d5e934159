#!/bin/sh
# Prints one of the README's two Quickstart commands, as written there:
#   tools/quickstart-commands.sh 1|2 [README]
# 1 installs the build's packages and runs `fer analyze`, 2 installs the
# tests' packages and runs the whole suite. They are the ```sh blocks under
# "## Quickstart", up to the next heading; anything but exactly two is an
# error, so that what users are told to run and what .ci/run and
# tools/fresh-machine-check.sh run cannot drift apart.
set -eu
want=${1:-}
readme=${2:-$(dirname "$0")/../README.md}
case $want in
1 | 2) ;;
*)
  echo "usage: $0 1|2 [README]" >&2
  exit 2
  ;;
esac
[ -f "$readme" ] || { echo "$0: $readme: no such file" >&2; exit 1; }

# The block is printed only at the end, once the count is known. Lines in
# any fence (sh or not) are never taken for headings.
awk -v want="$want" -v readme="$readme" '
  !fence && /^##? / { section = /^## Quickstart[ \t]*$/; next }
  !section { next }
  fence && /^```[ \t]*$/ { fence = 0; next }
  fence { if (sh && blocks == want) text = text $0 "\n"; next }
  /^```/ { fence = 1; sh = /^```sh[ \t]*$/; if (sh) blocks++; next }
  END {
    if (blocks != 2) {
      printf "%s: \"## Quickstart\" has %d sh blocks, not 2\n", readme, blocks > "/dev/stderr"
      exit 1
    }
    printf "%s", text
  }
' "$readme"
