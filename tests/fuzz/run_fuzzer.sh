#!/bin/sh
# Runs one libFuzzer harness for FER_FUZZ_SECONDS (default 20) starting from
# a copy of its committed seed corpus. Any crash, leak or timeout fails.
# Usage: run_fuzzer.sh HARNESS SEED_DIR
set -eu
harness=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
seeds=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$seeds" ] && cp -r "$seeds/." "$work/corpus/"
cd "$work"
"$harness" -max_total_time="${FER_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 corpus
