#!/bin/sh
# Prints one of the README's two-command recipes, as written there:
#   tools/quickstart-commands.sh [--section NAME] 1|2 [README]
# NAME is a "## " heading of README.md: Quickstart (the default: 1 installs
# the build's packages and runs `fer analyze`, 2 installs the tests'
# packages and runs the whole suite) or Python (1 installs the packages and
# pip-installs the binding, 2 analyses a photo from Python). The commands
# are the ```sh blocks under that heading, up to the next one; anything but
# exactly two is an error, so that what users are told to run and what
# .ci/run and tools/fresh-machine-check.sh run cannot drift apart.
set -eu
section=Quickstart
if [ "${1:-}" = --section ]; then
  section=${2:-}
  shift 2 || { echo "$0: --section needs a heading" >&2; exit 2; }
fi
want=${1:-}
readme=${2:-$(dirname "$0")/../README.md}
case $want in
1 | 2) ;;
*)
  echo "usage: $0 [--section NAME] 1|2 [README]" >&2
  exit 2
  ;;
esac
case $section in
'' | *[!A-Za-z0-9\ -]*)
  echo "$0: section \"$section\": a heading's words only (letters, digits, spaces, -)" >&2
  exit 2
  ;;
esac
[ -f "$readme" ] || { echo "$0: $readme: no such file" >&2; exit 1; }

# The block is printed only at the end, once the count is known. Lines in
# any fence (sh or not) are never taken for headings.
awk -v want="$want" -v readme="$readme" -v heading="## $section" '
  !fence && /^##? / { line = $0; sub(/[ \t]+$/, "", line); section = (line == heading); next }
  !section { next }
  fence && /^```[ \t]*$/ { fence = 0; next }
  fence { if (sh && blocks == want) text = text $0 "\n"; next }
  /^```/ { fence = 1; sh = /^```sh[ \t]*$/; if (sh) blocks++; next }
  END {
    if (blocks != 2) {
      printf "%s: \"%s\" has %d sh blocks, not 2\n", readme, heading, blocks > "/dev/stderr"
      exit 1
    }
    printf "%s", text
  }
' "$readme"
