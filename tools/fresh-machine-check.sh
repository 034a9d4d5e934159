#!/bin/bash
# Do the README's two Quickstart commands work on a machine that has never
# seen libfer? This builds a minimal Debian 12 root (mmdebstrap
# --variant=apt: the essential packages and apt; no compiler, no git, no
# ca-certificates, no locales), clones the committed project into it as
# /root/libfer, and runs there, as root in a chroot, the two ```sh blocks
# under "## Quickstart" of the clone's README.md, one after the other, as
# written (read with tools/quickstart-commands.sh, not copied):
#   block 1  must exit 0, print at least one face and write out/astronaut.png
#   block 2  (the whole test suite) must exit 0
# It prints each block's exit status, wall time and last lines, then the
# total. A failing block makes it print that block's whole output and exit 1.
#
# Usage: tools/fresh-machine-check.sh [-k|--keep] [-v|--verbose] [REPO [REV]]
#   REPO        the repository to clone (default: the one holding this script)
#   REV         the commit to check (default: REPO's HEAD); uncommitted
#               changes are never checked
#   -k, --keep  keep the work folder (the root and the logs) for a look
#   -v          also stream each block's output while it runs
# The work folder is made under ${TMPDIR:-/var/tmp}, about 4 GB by the end.
# Needs root (mmdebstrap, mount, chroot) and a Debian host with apt's
# archive reachable; installs mmdebstrap when it is missing. Takes about
# 27 minutes on 2 cores shared with another job: 1 for the root, 5 for
# block 1, 21 for block 2 (the suite; apt fetches about 440 MB in all).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
keep=0
verbose=0
while [ $# -gt 0 ]; do
  case $1 in
  -k | --keep) keep=1 ;;
  -v | --verbose) verbose=1 ;;
  -h | --help)
    sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  -*)
    echo "$0: unknown option $1" >&2
    exit 2
    ;;
  *) break ;;
  esac
  shift
done
repo=${1:-$(git -C "$here" rev-parse --show-toplevel)}
rev=$(git -C "$repo" rev-parse --verify "${2:-HEAD}^{commit}")
suite=bookworm
# The archive apt uses on Debian 12 hosts like this one (and mmdebstrap's
# default minus security.debian.org, which such hosts reach through
# deb.debian.org instead).
mirrors=(
  "deb http://deb.debian.org/debian $suite main"
  "deb http://deb.debian.org/debian $suite-updates main"
  "deb http://deb.debian.org/debian-security $suite-security main"
)
# What block 1 annotates: README's `fer analyze .../astronaut.png --annotate out`.
annotated=out/astronaut.png
tail_lines=15

if [ "$(id -u)" != 0 ]; then
  echo "$0: needs root (mmdebstrap, mount, chroot)" >&2
  exit 2
fi
if [ -z "${2:-}" ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "note: $repo has uncommitted changes; checking the commit $rev without them"
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "installing mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/fer-fresh.XXXXXX")
root=$work/root
logs=$work/logs
mkdir -p "$logs"

# Ends what still runs inside the root (by process id: only processes whose
# root folder is ours, all started by this script), then unmounts.
release_root() {
  local p
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
      kill -9 "${p#/proc/}" 2>/dev/null || true
    fi
  done
  for m in dev sys proc; do
    if mountpoint -q "$root/$m"; then
      umount -R "$root/$m" 2>/dev/null || umount -R -l "$root/$m" || true
    fi
  done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  release_root
  if [ "$keep" = 1 ]; then
    echo "kept: $work"
  elif grep -q " $work/" /proc/self/mounts; then
    # Never delete through a mount that is still there (/dev of the host).
    echo "$0: left $work: something is still mounted under it" >&2
    rc=1
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The two blocks, from the README of the commit checked (the one cloned
# below), read now so that a README without exactly two fails at once.
git -C "$repo" show "$rev:README.md" >"$work/README.md"
block1=$("$here/quickstart-commands.sh" 1 "$work/README.md")
block2=$("$here/quickstart-commands.sh" 2 "$work/README.md")
blocks=("$block1" "$block2")

mount_root() {
  mount -t proc proc "$root/proc"
  # Recursive binds, made slaves so that unmounting them here never reaches
  # the host's own /dev and /sys (/dev/pts and /dev/shm come along).
  mount --rbind /sys "$root/sys"
  mount --make-rslave "$root/sys"
  mount --rbind /dev "$root/dev"
  mount --make-rslave "$root/dev"
}

minutes() { printf '%dm %02ds' $(($1 / 60)) $(($1 % 60)); }
# shellcheck disable=SC2016  # dpkg-query's own ${field}
packages_in_root() { chroot "$root" dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -c '^ii'; }
# The lines of the closing summary: one per stage, with its time.
summary=()
stage() {
  summary+=("$*")
  echo "$*"
}

started=$(date +%s)
echo "== fresh-machine check of $(git -C "$repo" log -1 --format='%h %s' "$rev" | cut -c1-70)"
echo "   work folder $work"

t0=$(date +%s)
# In the foreground: a signal waits for mmdebstrap (a minute or two), which
# cleans up after itself, before the cleanup below deletes its folder.
if ! mmdebstrap --variant=apt "$suite" "$root" "${mirrors[@]}" </dev/null >"$logs/mmdebstrap.log" 2>&1; then
  cat "$logs/mmdebstrap.log"
  echo "FAIL: mmdebstrap could not build the root" >&2
  exit 1
fi
# The root's network settings (a fresh install has its own).
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
stage "root      $(minutes $(($(date +%s) - t0)))  Debian $(cat "$root/etc/debian_version"), mmdebstrap --variant=apt, $(packages_in_root) packages"

t0=$(date +%s)
src=$root/root/libfer
git clone --quiet "$repo" "$src"
git -C "$src" checkout --quiet --detach "$rev"
stage "clone     $(minutes $(($(date +%s) - t0)))  $repo at $(git -C "$src" rev-parse --short HEAD) into /root/libfer (no ../shared)"

mount_root
failed=0
for n in 1 2; do
  block=${blocks[$((n - 1))]}
  log=$logs/block$n.log
  echo "-- block $n: running"
  t0=$(date +%s)
  rc=0
  # A root shell on a bare system: no variables from this one, no terminal,
  # nothing on standard input; sh -e so that a failing line of a block that
  # has several stops it.
  run=(chroot "$root" /usr/bin/env -i HOME=/root LOGNAME=root USER=root
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    /bin/sh -e -c "cd /root/libfer
$block")
  # In the background, because bash runs the INT and TERM traps (the
  # cleanup) only once the foreground command ends; `wait` returns at once.
  if [ "$verbose" = 1 ]; then
    { "${run[@]}" </dev/null 2>&1 | tee "$log"; } &
  else
    "${run[@]}" </dev/null >"$log" 2>&1 &
  fi
  wait $! || rc=$?
  took=$(($(date +%s) - t0))
  verdict=ok
  notes=()
  if [ "$n" = 1 ]; then
    faces=$(grep -cE '^ +face [0-9]+ at ' "$log" || true)
    [ "$faces" -ge 1 ] || { verdict=FAIL; notes+=("no face printed"); }
    if [ -s "$src/$annotated" ] && [ "$(head -c 4 "$src/$annotated" | tail -c 3)" = PNG ]; then
      notes+=("faces printed: $faces; $annotated: $(wc -c <"$src/$annotated") bytes, PNG")
    else
      verdict=FAIL
      notes+=("$annotated was not written")
    fi
  fi
  # apt lists the recommended packages it leaves out: proof that the
  # lists hold without them (none listed when nothing was installed).
  left_out=$(awk '/^Recommended packages:/ { p = 1; next } /^[^ ]/ { p = 0 } p' "$log" |
    tr ' ' '\n' | grep -c '^[a-z0-9]' || true)
  [ "$left_out" = 0 ] || notes+=("apt left out $left_out recommended packages (--no-install-recommends)")
  [ "$rc" = 0 ] || verdict=FAIL
  stage "block $n   $(minutes "$took")  exit $rc, $verdict"
  echo "  \$ $block"
  for note in ${notes[@]+"${notes[@]}"}; do stage "  $note"; done
  echo "  packages in the root now: $(packages_in_root)"
  if [ "$n" = 2 ]; then
    # meson's totals per build of tools/run-tests.sh, and the tests that
    # skipped: those needing ../shared are expected, any other may name a
    # package the list lacks.
    totals=$(awk '/^==== .* ====$/ { step = $0; gsub(/^==== | ====$/, "", step) }
      /^(Ok|Fail|Skipped|Timeout):/ { sub(/:$/, "", $1); line[step] = line[step] " " $1 " " $2
        if (!(step in seen)) { seen[step] = 1; order[++steps] = step } }
      END { for (i = 1; i <= steps; i++) printf "  %s:%s\n", order[i], line[order[i]] }' "$log")
    while IFS= read -r line; do stage "$line"; done <<<"$totals"
    grep -E '^ *[0-9]+/[0-9]+ .* SKIP ' "$log" |
      sed -E 's/^ *[0-9]+\/[0-9]+ +//; s/ +SKIP.*//' | sort | uniq -c | sed -E 's/^ *([0-9]+) /  skipped (x\1): /' || true
  fi
  if [ "$verdict" != ok ]; then
    echo "== block $n failed; its whole output:"
    cat "$log"
    failed=$n
    break
  fi
  echo "  last $tail_lines lines of its output:"
  tail -n "$tail_lines" "$log" | sed 's/^/    /'
done

total=$(($(date +%s) - started))
echo
echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "$failed" != 0 ]; then
  echo "FAIL: block $failed; total $(minutes "$total")"
  exit 1
fi
echo "PASS: both Quickstart blocks on a fresh Debian $suite root; total $(minutes "$total")"
