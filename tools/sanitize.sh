#!/usr/bin/env bash
# The whole test suite under a sanitizer, before a release (too long for CI next to everything else):
#   tools/sanitize.sh address|thread|leak [FOLDER]
# It clones the repository's HEAD into FOLDER (default /tmp/rulec-sanitize-MODE, reused between runs
# so a second run builds only what changed) and builds there, so the subprocess tests run the
# sanitized `rulec` too. Set RULEC_TEST_POSTGRES (see SharedQueueTests) to include the shared queue.
#
# `leak` is the address sanitizer with LeakSanitizer on. Every process writes its report to
# FOLDER/leak-reports/ instead of failing on it; the run fails when a report has a frame in the
# repository's Sources/ (the runners' own objects and Foundation's are listed, not counted).
set -euo pipefail
mode=${1:?usage: tools/sanitize.sh address|thread|leak [FOLDER]}
case "$mode" in address | thread | leak) ;; *) echo "unknown mode: $mode" >&2; exit 2 ;; esac
repository=$(cd "$(dirname "$0")/.." && pwd)
folder=${2:-/tmp/rulec-sanitize-$mode}

if [ -d "$folder/.git" ]; then
  git -C "$folder" fetch -q "$repository" HEAD
  git -C "$folder" checkout -q --force FETCH_HEAD
else
  git clone -q "$repository" "$folder"
fi
cd "$folder"
sanitizer=$([ "$mode" = thread ] && echo thread || echo address)
swift build --build-tests --sanitize="$sanitizer"

case "$mode" in
  address) ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --sanitize=address ;;
  thread) swift test --skip-build --sanitize=thread ;;
  leak)
    reports=$folder/leak-reports
    rm -rf "$reports" && mkdir -p "$reports"
    ASAN_OPTIONS=detect_leaks=1:log_path=$reports/report LSAN_OPTIONS=exitcode=0 \
      swift test --skip-build --sanitize=address
    found=0
    for report in "$reports"/report.*; do
      [ -e "$report" ] || continue
      echo "== $(basename "$report"): $(grep -m1 SUMMARY "$report" || echo 'no summary')"
      if grep -q "$folder/Sources/" "$report"; then
        found=1
        grep -n "$folder/Sources/" "$report" | head -20
      fi
    done
    if [ "$found" = 1 ]; then
      echo "leaks with a frame in Sources/ (reports in $reports)" >&2
      exit 1
    fi
    echo "no leak with a frame in Sources/ (reports in $reports)"
    ;;
esac
