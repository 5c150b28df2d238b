#!/usr/bin/env bash
# Runs one fuzz target for RUNS executions (default 1,000,000) on its corpus and dictionary,
# one job, no sanitizer (the crates forbid unsafe code), debug assertions on.
#   fuzz/run.sh TARGET [RUNS] [MAX_LEN] [LIBFUZZER_FLAG...]
set -euo pipefail
cd "$(dirname "$0")"
target=$1
runs=${2:-1000000}
max_len=${3:-65536}
mkdir -p "corpus/$target" "artifacts/$target"
[ -n "$(ls -A "corpus/$target")" ] || python3 seed.py
exec cargo +nightly fuzz run -s none "$target" "corpus/$target" -- \
    -runs="$runs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -dict="dict/$target.dict" -print_final_stats=1 "${@:4}"
