"""Events a second through 1, 2 and 3 `rulec serve` processes on one PostgreSQL queue, beside one
process on its SQLite file, in interleaved rounds (the machine is noisy: medians).

    python3 tools/queue/bench_shared_queue.py --binary .build/release/rulec --pg-dir DIR --pg-port PORT \\
        [--events 100000] [--rounds 3] [--clients 8]

A round sends the recording in batches of 200 lines from `--clients` threads, round robin over the
processes, and times it until the last 202 (ingest: the accepted items are on the queue, committed).
The processes forward meanwhile to a stand-in destination; delivery itself is bound by the rate limit
(15 requests a second per destination, over all processes), not by the processes, so it is not timed."""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shared_queue as q  # noqa: E402

RULES = os.path.join(q.ROOT, "rules", "bench", "R2.rule")


def one_round(args, processes_count, events, work, sqlite=False):
    destination = q.Destination()
    ports = q.free_ports(processes_count)
    if sqlite:
        queue = None
    else:
        database = q.fresh_database(args.pg_port)
        queue = "postgres://postgres@127.0.0.1:%d/%s" % (args.pg_port, database)
    servers = []
    for port in ports:
        s = q.Serve(args.binary, RULES, queue or "", port, "http://127.0.0.1:%d" % destination.port, lease=30)
        if sqlite:
            state = tempfile.mkdtemp(prefix="rulec-bench-state-")
            s.start = lambda s=s, state=state: start_sqlite(s, state)
        servers.append(s.start())
    batches = q.batches_of(events, 200)
    next_batch = [0]
    lock = threading.Lock()

    def client(k):
        n = 0
        while True:
            with lock:
                if next_batch[0] >= len(batches):
                    return
                body = batches[next_batch[0]]
                next_batch[0] += 1
            port = ports[(k + n) % len(ports)]
            n += 1
            while q.post(port, body)[0] != 202:
                time.sleep(0.05)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ingest = time.perf_counter() - started
    for s in servers:
        s.stop()
    return ingest


def start_sqlite(serve, state):
    import subprocess
    import urllib.request
    env = dict(os.environ, RULEC_BENCH_KEY="key")
    serve.process = subprocess.Popen(
        [serve.binary, "serve", serve.rules, "--listen", "127.0.0.1:%d" % serve.port, "--state", state,
         "--api-base", serve.api_base], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(600):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/healthz" % serve.port, timeout=1).read()
            return serve
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("serve did not start")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--events", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rulec-bench-queue-")
    events = q.recording(work, args.events, 5)
    setups = [("sqlite, 1 process", 1, True), ("postgres, 1 process", 1, False), ("postgres, 2 processes", 2, False),
              ("postgres, 3 processes", 3, False)]
    times = {name: [] for name, _, _ in setups}
    for r in range(args.rounds):
        for name, n, sqlite in setups:
            t = one_round(args, n, events, work, sqlite)
            times[name].append(t)
            print("round %d  %-22s %6.2f s  %8.0f events/s" % (r + 1, name, t, args.events / t), flush=True)
    print()
    base = statistics.median(times["postgres, 1 process"])
    for name, _, _ in setups:
        m = statistics.median(times[name])
        print("%-22s median %6.2f s  %8.0f events/s  (%.2fx postgres, 1 process)" % (name, m, args.events / m, base / m))


if __name__ == "__main__":
    main()
