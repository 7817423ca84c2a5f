#!/usr/bin/env python3
"""The benchmark rules R1-R6 of rules/bench/ as a plain Python script using orjson, to compare with
`rulec run` side by side (same semantics as Grammar.md). Prints how many inputs each rule accepts.

    python3 tools/peer/rules.py R2 recording.jsonl
"""
import math
import sys

import orjson

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK = (1 << 64) - 1


def fnv1a64(data: bytes) -> int:
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def values(o):
    concepts = (o.get("data") or {}).get("concepts") or []
    return [c.get("value", 0) for c in concepts], concepts


def metadata(o):
    return ((o.get("input") or {}).get("data") or {}).get("metadata") or {}


def r1(o):
    key = ((o.get("input") or {}).get("id") or "").encode()
    return fnv1a64(b"42:" + key) % 1_000_000 < 100_000


def r2(o):
    v, _ = values(o)
    return bool(v) and max(v) < 0.6


def r3(o):
    v, _ = values(o)
    return bool(v) and sorted(v, reverse=True)[: min(5, len(v))][-1] > 0.2


def r4(o):
    _, cs = values(o)
    return metadata(o).get("source") == "mobile" and any(c.get("name") == "dog" and c.get("value", 0) > 0.8 for c in cs)


def r5(o):
    m = metadata(o)
    tags = m.get("tags")
    os_ = ((m.get("nested") or {}).get("device") or {}).get("os") if isinstance(m.get("nested"), dict) else None
    return m.get("country") in ("US", "CA") and isinstance(tags, list) and "outdoor" in tags and os_ != "ios"


def r6(o):
    v, cs = values(o)
    if not v:
        return False
    if not (max(v) < 0.6 or any(c.get("name") == "cat" and c.get("value", 0) > 0.9 for c in cs)):
        return False
    if metadata(o).get("source") == "kiosk":
        return False
    s = sorted(v, reverse=True)
    margin_ok = len(s) >= 2 and s[0] - s[1] < 0.1
    total = sum(v)
    entropy_ok = False
    if total != 0:
        h = 0.0
        for x in v:
            p = x / total
            if p != 0:
                h -= p * math.log(p)
        entropy_ok = h > 2.85
    return margin_ok or entropy_ok


RULES = {"R1": r1, "R2": r2, "R3": r3, "R4": r4, "R5": r5, "R6": r6}


def outputs(line):
    doc = orjson.loads(line)
    return doc["outputs"] if "outputs" in doc else [doc]


def main():
    rule = RULES[sys.argv[1]]
    accepted = set()
    with open(sys.argv[2], "rb") as f:
        for line in f:
            if not line.strip():
                continue
            for o in outputs(line):
                status = (o.get("status") or {}).get("code", 10000)
                if status not in (10000, "SUCCESS"):
                    continue
                if rule(o):
                    accepted.add((o.get("input") or {}).get("id"))
    print(f"{sys.argv[1]}: {len(accepted)} accepted")


if __name__ == "__main__":
    main()
