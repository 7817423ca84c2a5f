# Sourced by the tools that compare two rulec binaries over one recording: checks the first three
# arguments (OLD_BINARY NEW_BINARY RECORDING), sets $old, $new and $recording to absolute paths,
# and moves to the repository root.
for f in "$1" "$2" "$3"; do
  [ -e "$f" ] || { echo "$0: no such file: $f" >&2; exit 2; }
done
old=$(realpath "$1")
new=$(realpath "$2")
recording=$(realpath "$3")
cd "$(dirname "$0")/.." || exit 2
