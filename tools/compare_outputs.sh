#!/usr/bin/env bash
# Checks that two rulec binaries write byte-identical output for `rulec run` over one recording.
#
#   tools/compare_outputs.sh OLD_BINARY NEW_BINARY RECORDING
#
# For each rule set (rules/bench/R1..R6.rule, each rules/*.rule, and the whole rules/ folder) and
# for --jobs 1, 2 and 3: `cmp` of the items (--out), of the --report JSON and of the exit status.
# Then, over rules/, `--explain ID --out /dev/null` for three input ids (the first and the hundredth
# accepted inputs, and the first input that is not accepted): `cmp` of standard error (the trace
# followed by the human report; neither holds timings, so nothing is filtered) and of standard output.
# Prints one OK/DIFFER line per comparison; exits 1 if anything differs or a run fails, 2 on misuse.
# Runs are sequential: about 1 minute over 100k outputs on a 2-core machine.
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY RECORDING" >&2
  exit 2
fi
. "$(dirname "$0")/two_binaries.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare_outputs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failed=0
say() {  # STATUS LABEL
  printf '%-6s %s\n' "$1" "$2"
  [ "$1" = OK ] || failed=1
}
same() {  # LABEL FILE_A FILE_B
  if cmp -s "$2" "$3"; then say OK "$1"; else say DIFFER "$1"; fi
}
# Runs `rulec run` with both binaries and compares their exit statuses; each side's standard output
# and error land in $tmp/old.* and $tmp/new.*, and, with $files set, its items and report too.
# A failing old binary is reported as FAILED: identical failures would otherwise pass as OK.
files=
run_both() {  # LABEL RUN_ARGS...
  local label=$1 side bin extra
  shift
  for side in old new; do
    if [ $side = old ]; then bin=$old; else bin=$new; fi
    extra=()
    [ -n "$files" ] && extra=(--out "$tmp/$side.items" --report "$tmp/$side.report")
    "$bin" run "$@" "${extra[@]}" >"$tmp/$side.stdout" 2>"$tmp/$side.stderr"
    echo $? >"$tmp/$side.status"
  done
  if [ "$(cat "$tmp/old.status")" != 0 ]; then
    say FAILED "$label: old binary exited $(cat "$tmp/old.status"): $(head -c 300 "$tmp/old.stderr")"
  fi
  same "$label exit status" "$tmp/old.status" "$tmp/new.status"
}

files=1
for rules in rules/bench/R{1,2,3,4,5,6}.rule rules/*.rule rules/; do
  for jobs in 1 2 3; do
    label="$rules --jobs $jobs"
    run_both "$label" "$rules" --events "$recording" --jobs "$jobs"
    same "$label items" "$tmp/old.items" "$tmp/new.items"
    same "$label report" "$tmp/old.report" "$tmp/new.report"
    if [ "$rules" = rules/ ] && [ "$jobs" = 1 ]; then
      mv "$tmp/old.items" "$tmp/all.items" 2>/dev/null
    fi
    rm -f "$tmp"/{old,new}.{items,report}
  done
done
files=

# Input ids to explain: each item names its input in metadata.rulec.source_input_id.
accepted_ids() { grep -o '"source_input_id":"[^"]*"' "$tmp/all.items" 2>/dev/null | cut -d'"' -f4; }
first=$(accepted_ids | sed -n 1p)
hundredth=$(accepted_ids | sed -n 100p)
rejected=$(grep -o '"input":{"id":"[^"]*"' "$recording" | cut -d'"' -f6 | head -2000 |
  grep -vxF -f <(accepted_ids | sort -u) | head -1)
ids=()
for id in "$first" "$hundredth" "$rejected"; do
  [ -n "$id" ] && ids+=("$id")
done
if [ ${#ids[@]} -lt 3 ]; then
  say FAILED "could not pick three input ids to explain (got: ${ids[*]:-none})"
fi
for id in "${ids[@]}"; do
  run_both "rules/ --explain $id" rules/ --events "$recording" --explain "$id" --out /dev/null
  same "rules/ --explain $id stderr" "$tmp/old.stderr" "$tmp/new.stderr"
  same "rules/ --explain $id stdout" "$tmp/old.stdout" "$tmp/new.stdout"
done

if [ $failed = 0 ]; then echo "all identical"; else echo "DIFFERENCES FOUND"; fi
exit $failed
