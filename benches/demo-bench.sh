#!/usr/bin/env bash
# `bash benches/demo-bench.sh`: times the talk's demo (first run, no-op run, replay of the last
# two stations, update of app.zip) for the 514 KB and 5 MB apps; median of 5 repetitions.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --example demo
demo="$PWD/target/release/examples/demo"

ms() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for size in 514KB 5MB; do
  first=() noop=() replay=() update=()
  for rep in 1 2 3 4 5; do
    export DEMO_DIR; DEMO_DIR=$(mktemp -d)
    DEMO_APP_SIZE=$size "$demo" plan >/dev/null 2>&1   # makes app.zip outside the timings
    first+=("$(ms "$demo" run -q)")
    noop+=("$(ms "$demo" run -q)")
    rm -rf "$DEMO_DIR/store/work/default/deploy.route" "$DEMO_DIR/store/work/default/deploy.notified"
    replay+=("$(ms "$demo" run -q)")
    printf 'update %s' "$rep" >> "$DEMO_DIR/app.zip"
    update+=("$(ms "$demo" run -q)")
    "$demo" clean >/dev/null 2>&1
    rm -rf "$DEMO_DIR"
  done
  printf '| %s | %s | %s | %s | %s |\n' "$size" \
    "$(printf '%s\n' "${first[@]}" | median)" "$(printf '%s\n' "${noop[@]}" | median)" \
    "$(printf '%s\n' "${replay[@]}" | median)" "$(printf '%s\n' "${update[@]}" | median)"
done
