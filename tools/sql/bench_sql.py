"""`rulec run` against the DuckDB query `rulec compile --target sql` writes, on one recording, side
by side (run by hand, never in CI):

    tools/.venv/bin/python tools/sql/bench_sql.py .build/release/rulec RECORDING RULES... [--rounds 3]

For each rule file: wall and CPU seconds (medians) of `rulec run --out` and of the query in DuckDB
(every thread DuckDB starts counts in its CPU), and whether both gave the same items.
"""
import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time

import duckdb


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rulec")
    parser.add_argument("recording")
    parser.add_argument("rules", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'rules':28} {'run wall':>9} {'run cpu':>8} {'sql wall':>9} {'sql cpu':>8}  items")
    for rules in args.rules:
        query = subprocess.run([args.rulec, "compile", rules, "--target", "sql", "--from", args.recording], capture_output=True, text=True, check=True).stdout
        runs, sqls = [], []
        for _ in range(args.rounds):
            with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
                c0, t0 = cpu_children(), time.perf_counter()
                subprocess.run([args.rulec, "run", rules, "--events", args.recording, "--out", out.name], capture_output=True, check=False)
                runs.append((time.perf_counter() - t0, cpu_children() - c0))
                items = [(i["id"], i["data"]["metadata"]["rulec"]["collector"]) for i in map(json.loads, open(out.name))]
            connection = duckdb.connect()
            c0, t0 = cpu_self(), time.perf_counter()
            rows = connection.sql(query).fetchall()
            sqls.append((time.perf_counter() - t0, cpu_self() - c0))
            connection.close()
        same = [(r[0], r[1]) for r in rows] == items
        med = lambda xs, k: statistics.median(x[k] for x in xs)
        print(f"{rules:28} {med(runs, 0):9.2f} {med(runs, 1):8.2f} {med(sqls, 0):9.2f} {med(sqls, 1):8.2f}  {len(items)} {'same' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
