#!/usr/bin/env bash
# Builds the libFuzzer targets (address sanitizer on) and runs each for a while:
#   Fuzz/run.sh [SECONDS_PER_TARGET] [TARGET ...]        (default: 60 seconds, every target)
# FUZZ_CONFIGURATION=release builds optimized targets (still with the address sanitizer): about
# five times the executions a second, for campaigns; the default debug build is quicker to build.
# FUZZ_RUNS=N stops each target after N executions instead of after the time; FUZZ_MAX_LEN=N
# caps the input size (default 64 KiB).
# New inputs go to a scratch corpus beside the committed seeds (Fuzz/Corpus/NAME); a crash, a
# sanitizer report or a failed oracle stops the run and leaves the input in Fuzz/.build/crashes.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(FuzzRules FuzzYAML FuzzEvents FuzzIngest); fi

# Linked with the toolchain's lld: gold crashed on the fuzzer runtime (an internal error).
mkdir -p .build
lld="$(dirname "$(command -v swift)")/ld.lld"
printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$lld" > .build/toolset.json
flags=(-c "${FUZZ_CONFIGURATION:-debug}" --package-path . --toolset .build/toolset.json -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
swift build "${flags[@]}" > .build/build.log 2>&1 || {
  cat .build/build.log
  exit 1
}
bin="$(swift build "${flags[@]}" --show-bin-path)"
mkdir -p .build/crashes
status=0
for target in "${targets[@]}"; do
  case "$target" in
    FuzzRules) seeds=Corpus/rules ;;
    FuzzYAML) seeds=Corpus/yaml ;;
    FuzzEvents) seeds=Corpus/events ;;
    FuzzIngest) seeds=Corpus/ingest ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  scratch=".build/corpus/$target"
  mkdir -p "$scratch"
  echo "== $target for ${seconds}s"
  if ! "$bin/$target" "$scratch" "$seeds" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_len="${FUZZ_MAX_LEN:-65536}" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=".build/crashes/$target-" -print_final_stats=1 2> ".build/$target.log"; then
    status=1
    tail -40 ".build/$target.log"
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs" ".build/$target.log" || true
done
exit $status
