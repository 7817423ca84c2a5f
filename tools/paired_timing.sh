#!/usr/bin/env bash
# Paired wall-clock timing of two rulec binaries on the benchmark rules R2, R3 and R6.
#
#   tools/paired_timing.sh OLD_BINARY NEW_BINARY RECORDING [ROUNDS]   # ROUNDS defaults to 5
#
# Per rule: ROUNDS rounds of one old and one new `rulec run rules/bench/Rn.rule --events RECORDING
# --out /dev/null --jobs 1`, alternating which goes first, then prints the median wall time of each
# and new/old (below 1 means the new binary is faster). The recording is read once first, so that
# every timed run finds it in the page cache. Stops at the first run that fails. JOBS=N sets --jobs
# (default 1). Prints wall and CPU (user + system) medians.
set -uo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY RECORDING [ROUNDS]" >&2
  exit 2
fi
rounds=${4:-5}
. "$(dirname "$0")/two_binaries.sh"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "$0: ROUNDS must be a positive number" >&2; exit 2; }

errors=$(mktemp "${TMPDIR:-/tmp}/paired_timing.XXXXXX")

jobs=${JOBS:-1}
times=$(mktemp "${TMPDIR:-/tmp}/paired_timing.XXXXXX")
trap 'rm -f "$errors" "$times"' EXIT

# "WALL_MS CPU_MS" of one run (CPU: user + system, all threads); its items and report are discarded.
time_run() {  # BINARY RULES
  if ! /usr/bin/time -o "$times" -f "%e %U %S" "$1" run "$2" --events "$recording" --out /dev/null --jobs "$jobs" >/dev/null 2>"$errors"; then
    echo "$0: $1 run $2 failed:" >&2
    cat "$errors" >&2
    exit 1
  fi
  awk '{ printf "%d %d", $1 * 1000, ($2 + $3) * 1000 }' "$times"
}

median() {  # MILLISECONDS... -> seconds
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m / 1000 }'
}

cat "$recording" >/dev/null
echo "recording: $recording ($rounds rounds, --jobs $jobs; wall and CPU medians)"
printf '%-4s %9s %9s %8s %9s %9s %8s   %s\n' rule "old (s)" "new (s)" new/old "old CPU" "new CPU" new/old "wall runs old | new (ms)"
for rule in R2 R3 R6; do
  rules=rules/bench/$rule.rule
  old_ms=() new_ms=() old_cpu=() new_cpu=()
  for ((i = 1; i <= rounds; i++)); do
    for side in old new; do
      # Alternate which binary goes first.
      if ((i % 2 == 0)); then side=$([ $side = old ] && echo new || echo old); fi
      bin=$old
      [ $side = new ] && bin=$new
      read -r wall cpu <<<"$(time_run "$bin" "$rules")" || exit 1
      [ -n "$wall" ] || exit 1
      if [ $side = old ]; then old_ms+=("$wall"); old_cpu+=("$cpu"); else new_ms+=("$wall"); new_cpu+=("$cpu"); fi
    done
  done
  old_median=$(median "${old_ms[@]}")
  new_median=$(median "${new_ms[@]}")
  old_cpu_median=$(median "${old_cpu[@]}")
  new_cpu_median=$(median "${new_cpu[@]}")
  ratio=$(awk -v o="$old_median" -v n="$new_median" 'BEGIN { printf "%.3f", (o > 0 ? n / o : 0) }')
  cpu_ratio=$(awk -v o="$old_cpu_median" -v n="$new_cpu_median" 'BEGIN { printf "%.3f", (o > 0 ? n / o : 0) }')
  printf '%-4s %9s %9s %8s %9s %9s %8s   %s | %s\n' "$rule" "$old_median" "$new_median" "$ratio" "$old_cpu_median" \
    "$new_cpu_median" "$cpu_ratio" "${old_ms[*]}" "${new_ms[*]}"
done
