#!/usr/bin/env bash
# Fuzzes every decoder of stored bytes (fuzz/fuzz_targets) for FUZZ_SECONDS each (60 by
# default) on stable Rust, starting from the committed corpus. New inputs go to a temp dir,
# so the checkout stays clean; a crash or an over-allocation leaves its input in
# fuzz/artifacts/<target>/ and fails the script. Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version
cargo fuzz build --sanitizer=none

found="$(mktemp -d)"
trap 'rm -rf "$found"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$found/$target"
  log="$found/$target.log"
  if ! cargo fuzz run "$target" --sanitizer=none "$found/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target failed; its input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  echo "fuzz $target: $runs executions in ${seconds} s, 0 crashes, corpus $(ls "corpus/$target" | wc -l) files + $(ls "$found/$target" | wc -l) new"
done
