#!/bin/sh
# The README's two-command recipes (Quickstart, Python) are what CI and
# tools/fresh-machine-check.sh run, read by tools/quickstart-commands.sh.
# This checks that each section yields two blocks whose first installs its
# packages with a group tools/install-deps.sh knows, and that the reader
# refuses what it must: a section with one block, an unknown section, a
# heading that only starts like the one asked for, and fences it must not
# read as headings.
#   check_readme_recipes.sh SOURCE_ROOT
set -eu
root=$1
reader=$root/tools/quickstart-commands.sh
installer=$root/tools/install-deps.sh
fail() { echo "FAIL: $*"; exit 1; }

for section in Quickstart Python; do
  first=$("$reader" --section "$section" 1 "$root/README.md") || fail "$section: block 1 unreadable"
  second=$("$reader" --section "$section" 2 "$root/README.md") || fail "$section: block 2 unreadable"
  [ -n "$second" ] || fail "$section: block 2 is empty"
  group=$(printf '%s\n' "$first" | sed -n 's|^tools/install-deps\.sh \([a-z]*\) .*|\1|p' | head -n 1)
  [ -n "$group" ] || fail "$section: block 1 does not start with tools/install-deps.sh GROUP: $first"
  grep -q "^$group) packages=" "$installer" || fail "$section: install-deps.sh has no group '$group'"
  echo "ok: $section: install-deps.sh $group, then: $(printf '%s' "$second" | cut -c1-60)"
done
# The default section is Quickstart, and .ci/run reads its block 2.
[ "$("$reader" 2 "$root/README.md")" = "$("$reader" --section Quickstart 2 "$root/README.md")" ] ||
  fail "the default section is not Quickstart"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fence='```'
cat >"$tmp/one.md" <<MD
## Quickstart
${fence}sh
echo one
${fence}
## Python extra
${fence}sh
echo a
${fence}
${fence}sh
echo b
${fence}
MD
if "$reader" 1 "$tmp/one.md" >/dev/null 2>&1; then fail "read a section with one block"; fi
if "$reader" --section Python 1 "$tmp/one.md" >/dev/null 2>&1; then
  fail "took '## Python extra' for '## Python'"
fi
if "$reader" --section 'Py$thon' 1 "$tmp/one.md" >/dev/null 2>&1; then fail "accepted a bad section name"; fi
cat >"$tmp/fenced.md" <<MD
## Python
${fence}text
## not a heading
${fence}
${fence}sh
echo first
${fence}
${fence}sh
echo second
${fence}
## Next
MD
[ "$("$reader" --section Python 2 "$tmp/fenced.md")" = "echo second" ] ||
  fail "a heading inside a fence ended the section"
echo "ok: the reader refuses one block, a longer heading and a bad name, and skips fenced headings"
