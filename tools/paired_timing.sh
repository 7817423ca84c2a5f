#!/usr/bin/env bash
# Paired wall-clock timing of two rulec binaries on the benchmark rules R2, R3 and R6.
#
#   tools/paired_timing.sh OLD_BINARY NEW_BINARY RECORDING [ROUNDS]   # ROUNDS defaults to 5
#
# Per rule: ROUNDS rounds of one old and one new `rulec run rules/bench/Rn.rule --events RECORDING
# --out /dev/null --jobs 1`, alternating which goes first, then prints the median wall time of each
# and new/old (below 1 means the new binary is faster). The recording is read once first, so that
# every timed run finds it in the page cache. Stops at the first run that fails.
set -uo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY RECORDING [ROUNDS]" >&2
  exit 2
fi
for f in "$1" "$2" "$3"; do
  [ -e "$f" ] || { echo "$0: no such file: $f" >&2; exit 2; }
done
old=$(realpath "$1")
new=$(realpath "$2")
recording=$(realpath "$3")
rounds=${4:-5}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "$0: ROUNDS must be a positive number" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2

errors=$(mktemp "${TMPDIR:-/tmp}/paired_timing.XXXXXX")
trap 'rm -f "$errors"' EXIT

# Wall milliseconds of one run (to stdout); its items and report are discarded.
time_run() {  # BINARY RULES
  local start end
  start=$(date +%s%N)
  if ! "$1" run "$2" --events "$recording" --out /dev/null --jobs 1 >/dev/null 2>"$errors"; then
    echo "$0: $1 run $2 failed:" >&2
    cat "$errors" >&2
    exit 1
  fi
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))  # milliseconds
}

median() {  # MILLISECONDS... -> seconds
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m / 1000 }'
}

cat "$recording" >/dev/null
echo "recording: $recording ($rounds rounds, --jobs 1)"
printf '%-4s %10s %10s %10s   %s\n' rule "old (s)" "new (s)" new/old "runs old | new (ms)"
for rule in R2 R3 R6; do
  rules=rules/bench/$rule.rule
  old_ms=() new_ms=()
  for ((i = 1; i <= rounds; i++)); do
    if ((i % 2)); then
      old_ms+=("$(time_run "$old" "$rules")") || exit 1
      new_ms+=("$(time_run "$new" "$rules")") || exit 1
    else
      new_ms+=("$(time_run "$new" "$rules")") || exit 1
      old_ms+=("$(time_run "$old" "$rules")") || exit 1
    fi
  done
  old_median=$(median "${old_ms[@]}")
  new_median=$(median "${new_ms[@]}")
  ratio=$(awk -v o="$old_median" -v n="$new_median" 'BEGIN { printf "%.3f", (o > 0 ? n / o : 0) }')
  printf '%-4s %10s %10s %10s   %s | %s\n' "$rule" "$old_median" "$new_median" "$ratio" "${old_ms[*]}" "${new_ms[*]}"
done
