#!/usr/bin/env bash
# Minimizes a target's corpus (cargo fuzz cmin) and copies a regression set out of it.
#   fuzz/cmin.sh TARGET
set -euo pipefail
cd "$(dirname "$0")"
cargo +nightly fuzz cmin -s none "$1" "corpus/$1" -- -max_len=65536 -rss_limit_mb=2048 -timeout=10
python3 select.py "$1"
