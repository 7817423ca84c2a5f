"""Spark's throughput on the query `rulec compile --target sql --dialect spark` writes, in local mode
with one and with two threads, beside `rulec run` on the same recording (run by hand, never in CI):

    tools/.venv/bin/python tools/sql/bench_spark.py .build/release/rulec RECORDING RULES... [--rounds 3]

Each thread count gets a session of its own; the first query of a session warms the JVM and is not
counted. Per rule file: the median wall time over the rounds, outputs a second, outputs a second per
thread, and whether the items are `rulec run`'s.
"""
import argparse
import json
import statistics
import subprocess
import tempfile
import time

from engines import split_settings


def items_of_run(rulec, rules, recording):
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        t0 = time.perf_counter()
        subprocess.run([rulec, "run", rules, "--events", recording, "--out", out.name], capture_output=True, check=False)
        wall = time.perf_counter() - t0
        return wall, [(i["id"], i["data"]["metadata"]["rulec"]["collector"]) for i in map(json.loads, open(out.name))]


def run_query(session, sql):
    settings, query = split_settings(sql)
    for setting in settings:
        session.sql(setting)
    return session.sql(query).collect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rulec")
    parser.add_argument("recording")
    parser.add_argument("rules", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--split-mb", type=int, default=32, help="spark.sql.files.maxPartitionBytes, in MiB (Spark's default is 128)")
    args = parser.parse_args()
    from pyspark.sql import SparkSession
    outputs = sum(1 for _ in open(args.recording))
    print(f"{outputs} lines in {args.recording}")
    print(f"{'rules':28} {'threads':>7} {'wall s':>7} {'lines/s':>9} {'/thread':>9} {'rulec run s':>11}  items")
    for threads in [int(t) for t in args.threads.split(",")]:
        session = (SparkSession.builder.master(f"local[{threads}]").appName(f"bench-{threads}")
                   .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", str(threads))
                   .config("spark.driver.memory", "4g").config("spark.sql.files.maxPartitionBytes", str(args.split_mb << 20))
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
        for rules in args.rules:
            sql = subprocess.run([args.rulec, "compile", rules, "--target", "sql", "--dialect", "spark", "--from", args.recording],
                                 capture_output=True, text=True, check=True).stdout
            run_query(session, sql)  # warm-up
            walls = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                rows = run_query(session, sql)
                walls.append(time.perf_counter() - t0)
            run_wall, items = items_of_run(args.rulec, rules, args.recording)
            same = [(r[0], r[1]) for r in rows] == items
            wall = statistics.median(walls)
            print(f"{rules:28} {threads:7} {wall:7.2f} {outputs / wall:9.0f} {outputs / wall / threads:9.0f} {run_wall:11.2f}  "
                  f"{len(items)} {'same' if same else 'DIFFERENT'}", flush=True)
        session.stop()
        SparkSession._instantiatedSession = None


if __name__ == "__main__":
    main()
