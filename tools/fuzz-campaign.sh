#!/bin/sh
# Long fuzz campaigns: runs every libFuzzer harness in tests/fuzz (ASan +
# UBSan, built by tools/fuzz-build.sh) for a number of executions, growing a
# working corpus that starts from the committed seeds, then merges what adds
# coverage back into tests/fuzz/corpus/<harness>/ so that CI's short runs
# (tools/run-tests.sh) and every build's replay tests start from it.
#
#   nice -n 19 tools/fuzz-campaign.sh [options] [HARNESS...]
#     --runs N       executions per harness in total, over all sessions
#                    (default 10000000)
#     --chunk N      executions per libFuzzer run (default 100000), and
#     --chunk-seconds S  at most S seconds per run (default 600): the state
#                    is saved after each run, so an interrupted campaign
#                    loses at most one run
#     --timeout S    one input running longer than S seconds (wall time)
#                    is a crash (default 300; CI's short runs use 10)
#     --seconds S    stop starting chunks after S seconds of this session
#                    (default: no limit); the last chunk is cut to fit
#     --work DIR     the campaign's state (default build-fuzz-campaign)
#     --build DIR    the fuzz build (default build-fuzz; configured and
#                    built when missing)
#     --no-merge     fuzz only; --merge-only: merge only
# HARNESS names (pnm, png, model, ...) pick harnesses; default all.
#
# Resuming: run the same command again. WORK/<harness>/ keeps the growing
# corpus, the executions done so far (execs), crash inputs (crashes/) and
# the libFuzzer logs; WORK/report.txt is rewritten after every chunk with
# harness, executions, committed seed files and bytes when the campaign
# began (seeds0, bytes0) and now, the working corpus's files, and crashes.
#
# The harnesses take turns, one chunk each, so a time-limited session
# spreads its time over all of them. A harness that crashes stops (its
# input is in WORK/<harness>/crashes/); fix the bug, add the input to the
# seeds (tests/fuzz/corpus/<harness>/, replayed by every build) and run
# again: the campaign first retries the crash inputs and goes on when they
# pass.
#
# The merge keeps the committed seeds (named by what they hold) and adds the
# working corpus's inputs that reach coverage the seeds do not, smallest
# first (libFuzzer -merge=1), only files of at most 64 KiB, and while the
# harness's seeds stay under 384 KiB.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)

runs=10000000
chunk=100000
chunk_seconds=600
timeout=300
seconds=0
work="build-fuzz-campaign"
build="build-fuzz"
do_fuzz=true
do_merge=true
max_file=65536
max_dir=393216
names=""
while [ $# -gt 0 ]; do
  case $1 in
  --runs) runs=$2; shift ;;
  --chunk) chunk=$2; shift ;;
  --chunk-seconds) chunk_seconds=$2; shift ;;
  --timeout) timeout=$2; shift ;;
  --seconds) seconds=$2; shift ;;
  --work) work=$2; shift ;;
  --build) build=$2; shift ;;
  --no-merge) do_merge=false ;;
  --merge-only) do_fuzz=false ;;
  -h | --help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//;/^set -eu/d'; exit 0 ;;
  -*) echo "fuzz-campaign.sh: unknown option $1" >&2; exit 2 ;;
  *) names="$names $1" ;;
  esac
  shift
done
if [ -z "$names" ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c)
    names="$names ${n#fuzz_}"
  done
fi
for n in $names; do
  [ -f "tests/fuzz/fuzz_$n.c" ] || { echo "fuzz-campaign.sh: no harness tests/fuzz/fuzz_$n.c" >&2; exit 2; }
done

mkdir -p "$work"
work=$(cd "$work" && pwd)
start=$(date +%s)
tools/fuzz-build.sh "$build" --harnesses >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; exit 1; }

# The libFuzzer limits of CI's runs (tests/fuzz/run_fuzzer.sh), but for the
# time per input: libFuzzer measures wall time, and a campaign at nice 19
# beside a busy CPU gets a small share of it. For the same reason an input
# is reported as slow only at the timeout: libFuzzer writes its slow units
# (10 s by default) next to the crashes, where they would stop the harness
# although nothing failed (a seed model of 8 million weights takes 10 s
# under ASan on a starved core).
fuzz_limits="-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=$timeout -report_slow_units=$timeout"

files_in() { find "$1" -type f 2>/dev/null | wc -l; }
bytes_in() { find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

# Crash inputs stay in WORK/<harness>/crashes/ until the harness runs them
# cleanly: each run of this script retries them first and moves those that
# pass to crashes/fixed/.
recheck_crashes() { # harness
  for c in "$work/$1/crashes"/*; do
    [ -f "$c" ] || continue
    # shellcheck disable=SC2086
    if "$root/$build/tests/fuzz/fuzz_$1" $fuzz_limits "$c" >"$c.retry.log" 2>&1; then
      mkdir -p "$work/$1/crashes/fixed"
      mv "$c" "$c.retry.log" "$work/$1/crashes/fixed/"
    else
      rm -f "$c.retry.log"
    fi
  done
}
open_crashes() { # harness (slow units are not failures)
  find "$work/$1/crashes" -maxdepth 1 -type f ! -name 'slow-unit-*' | wc -l
}

write_report() {
  {
    printf '%-12s %11s %6s %6s %8s %8s %7s %7s\n' harness executions seeds0 seeds \
      bytes0 bytes working crashes
    # (its own variable names: sh has no locals, and the caller's loop
    # runs on n and d)
    for rn in $names; do
      rd=$work/$rn
      printf '%-12s %11s %6s %6s %8s %8s %7s %7s\n' "$rn" "$(cat "$rd/execs" 2>/dev/null || echo 0)" \
        "$(cat "$rd/seeds-before")" "$(files_in "tests/fuzz/corpus/$rn")" \
        "$(cat "$rd/bytes-before")" "$(bytes_in "tests/fuzz/corpus/$rn")" \
        "$(files_in "$rd/corpus")" "$(open_crashes "$rn")"
    done
  } >"$work/report.txt"
}

for n in $names; do
  d=$work/$n
  mkdir -p "$d/corpus" "$d/crashes"
  [ -f "$d/execs" ] || echo 0 >"$d/execs"
  [ -f "$d/seeds-before" ] || files_in "tests/fuzz/corpus/$n" >"$d/seeds-before"
  [ -f "$d/bytes-before" ] || bytes_in "tests/fuzz/corpus/$n" >"$d/bytes-before"
  cp -n "tests/fuzz/corpus/$n"/* "$d/corpus/" 2>/dev/null || true
  recheck_crashes "$n"
done

if $do_fuzz; then
  busy=true
  while $busy; do
    busy=false
    for n in $names; do
      d=$work/$n
      done_runs=$(cat "$d/execs")
      [ "$done_runs" -lt "$runs" ] || continue
      [ "$(open_crashes "$n")" -eq 0 ] || continue
      left=$((runs - done_runs))
      [ "$left" -le "$chunk" ] || left=$chunk
      limit=$chunk_seconds
      if [ "$seconds" -gt 0 ]; then
        remaining=$((start + seconds - $(date +%s)))
        [ "$remaining" -gt 5 ] || break 2
        [ "$remaining" -ge "$limit" ] || limit=$remaining
      fi
      log=$d/fuzz-$(date +%Y%m%d-%H%M%S).log
      # shellcheck disable=SC2086
      (cd "$d" && "$root/$build/tests/fuzz/fuzz_$n" -runs="$left" -max_total_time="$limit" $fuzz_limits \
        -artifact_prefix="$d/crashes/" -print_final_stats=1 corpus) >"$log" 2>&1 &&
        status=0 || status=$?
      ran=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
      echo $((done_runs + ${ran:-0})) >"$d/execs"
      write_report
      if [ "$status" -ne 0 ]; then
        echo "fuzz-campaign: $n failed (status $status), see $log and $d/crashes/" >&2
        [ "$(open_crashes "$n")" -gt 0 ] ||
          { echo "fuzz-campaign: $n failed without a crash input: stopping" >&2; exit 1; }
      fi
      busy=true
    done
  done
fi

if $do_merge; then
  for n in $names; do
    d=$work/$n
    seeds=tests/fuzz/corpus/$n
    mkdir -p "$seeds"
    small=$d/merge-in
    added=$d/merge-added
    rm -rf "$small" "$added"
    mkdir -p "$small" "$added"
    find "$d/corpus" -type f -size -$((max_file + 1))c -exec cp {} "$small/" \;
    # A scratch copy of the seeds: -merge=1 writes into its first folder,
    # and what it writes there is what the seeds lacked.
    rm -rf "$d/merge-seeds"
    mkdir -p "$d/merge-seeds"
    cp -r "$seeds/." "$d/merge-seeds/"
    before=$(files_in "$d/merge-seeds")
    # shellcheck disable=SC2086
    "$root/$build/tests/fuzz/fuzz_$n" -merge=1 $fuzz_limits "$d/merge-seeds" "$small" \
      >"$d/merge.log" 2>&1 || { echo "fuzz-campaign: merge of $n failed, see $d/merge.log" >&2; exit 1; }
    for f in "$d/merge-seeds"/*; do
      [ -e "$seeds/$(basename "$f")" ] || mv "$f" "$added/"
    done
    rm -rf "$d/merge-seeds" "$small"
    # Smallest first, while the seeds stay under the cap.
    total=$(bytes_in "$seeds")
    kept=0
    for f in $(find "$added" -type f -printf '%s %p\n' | sort -n | cut -d' ' -f2); do
      size=$(stat -c %s "$f")
      [ $((total + size)) -le "$max_dir" ] || break
      mv "$f" "$seeds/"
      total=$((total + size))
      kept=$((kept + 1))
    done
    dropped=$(files_in "$added")
    rm -rf "$added"
    echo "fuzz-campaign: $n: $before seeds, $kept added ($dropped more over the ${max_dir}-byte cap), $total bytes"
  done
  write_report
fi
cat "$work/report.txt"
