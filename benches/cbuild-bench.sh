#!/usr/bin/env bash
# `bash benches/cbuild-bench.sh [REPS]`: the C build of `examples/cbuild` with choochoo (the
# release `cbuild` example, `run --jobs 2`) and with its Makefile (`make -j2`), each on its
# own copy of the sources, runs interleaved: clean build, no-op, one `.c` edit, one header
# edit, comment-only edit. Prints, per scenario, each tool's median wall, user and system
# seconds of REPS runs (default 9) and the objects compiled, the ratio choochoo / make of the
# median walls and of the median CPU (user + system) seconds, and the load average before and
# after. `CBUILD=PATH` times that build of the example instead of building it (to compare two
# versions).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-9}
if [ -z "${CBUILD:-}" ]; then
  # `-p examples`: the example with the features its own package asks for, as a program of
  # its own would be, not those every test of the workspace turns on.
  cargo build -q --release -p examples --example cbuild
fi
cbuild=$(realpath "${CBUILD:-target/release/examples/cbuild}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/cbuild "$work/make"
cp -r examples/cbuild "$work/choochoo"
rm -rf "$work"/*/build "$work"/*/.choochoo

# The builds, each printing what it compiled: make its commands, choochoo `run -v` its items.
# Each runs in its tool's copy (`measure` goes there first), started the same way: no
# subshell or other process in the timing but the tool.
build_make() { make -j2 --no-print-directory; }
build_choochoo() { "$cbuild" run -v --jobs 2; }
compiled_make() { grep -c -- ' -c -MMD ' "$1" || true; }
compiled_choochoo() { grep -c '^ *ran  objects\[' "$1" || true; }

# The edits, each new (numbered), as an edit in a working tree is.
edits=0
edit() { # FILE SED-EXPRESSION, where N is the edit's number
  edits=$((edits + 1))
  sed -i "${2//N/$edits}" "$1"
}
edit_c() { edit "$1/src/builtins.c" 's|(0 to 20[^)]*)|(0 to 20, edit N)|'; }
edit_h() { edit "$1/src/vm.h" 's|VM_STACK_MAX [0-9]*$|VM_STACK_MAX 2N|'; }
edit_comment() { edit "$1/src/lexer.c" 's|into tokens[^*]*\*/|into tokens (edit N). */|'; }
clean_make() { rm -rf "$1/build"; }
clean_choochoo() { rm -rf "$1/.choochoo"; }
none() { :; }

# One timed build of TOOL after PREPARE: "wall user sys compiled".
measure() { # TOOL PREPARE
  local dir="$work/$1" log="$work/$1.log"
  if [ "$2" = clean ]; then "clean_$1" "$dir"; else "$2" "$dir"; fi
  local TIMEFORMAT='%R %U %S' times
  cd "$dir"
  { time "build_$1" >"$log" 2>&1; } 2>"$work/time"
  cd - >/dev/null
  times=$(<"$work/time")
  echo "$times $("compiled_$1" "$log")"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
column() { awk -v c="$1" '{ print $c }'; }
cpu() { awk '{ print $2 + $3 }'; }
# choochoo's median over make's, of column N or of the CPU seconds.
ratio() {
  awk -v a="$(column "$1" <"$work/choochoo.rows" | median)" \
    -v b="$(column "$1" <"$work/make.rows" | median)" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'
}
cpu_ratio() {
  awk -v a="$(cpu <"$work/choochoo.rows" | median)" -v b="$(cpu <"$work/make.rows" | median)" \
    'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| scenario | tool | wall s | user s | sys s | objects compiled |\n|---|---|---:|---:|---:|---:|\n'
ratios=""
for scenario in clean none edit_c edit_h edit_comment; do
  # The state each scenario starts from: a built tree (a clean build leaves one).
  measure make none >/dev/null; measure choochoo none >/dev/null
  : >"$work/make.rows"; : >"$work/choochoo.rows"
  for _ in $(seq "$reps"); do
    measure make "$scenario" >>"$work/make.rows"
    measure choochoo "$scenario" >>"$work/choochoo.rows"
  done
  for tool in make choochoo; do
    rows="$work/$tool.rows"
    printf '| %s | %s | %s | %s | %s | %s |\n' "$scenario" "$tool" \
      "$(column 1 <"$rows" | median)" "$(column 2 <"$rows" | median)" \
      "$(column 3 <"$rows" | median)" "$(column 4 <"$rows" | sort -u | paste -sd/)"
  done
  ratios+="$scenario $(ratio 1) $(cpu_ratio)"$'\n'
done
printf '\n| scenario | choochoo / make, wall | choochoo / make, cpu |\n|---|---:|---:|\n'
printf '%s' "$ratios" | awk 'NF { printf "| %s | %s | %s |\n", $1, $2, $3 }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
