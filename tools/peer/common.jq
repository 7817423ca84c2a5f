# Shared definitions for the jq versions of the benchmark rules (R2-R6); run with
#   jq -n -L tools/peer -f tools/peer/R2.jq recording.jsonl    (see tools/peer/README.md)
def outputs: if has("outputs") then .outputs[] else . end;
def ok: ((.status.code // 10000) | . == 10000 or . == "SUCCESS");
def vals: [(.data.concepts // [])[] | (.value // 0)];
def meta: (.input.data.metadata // {});
