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


def cpu_seconds(pids):
    """User and system CPU seconds the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids():
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/comm" % entry) as f:
                    if f.read().strip() in ("postgres", "postmaster"):
                        out.append(int(entry))
            except OSError:
                pass
    return out


def one_round(args, processes_count, events, work, sqlite=False):
    destination = q.Destination()
    ports = q.free_ports(processes_count)
    if sqlite:
        queue = None
    else:
        database = q.fresh_database(args.pg_port)
        queue = "postgres://postgres@127.0.0.1:%d/%s" % (args.pg_port, database)
    servers = [q.Serve(args.binary, RULES, queue, port, "http://127.0.0.1:%d" % destination.port, lease=30).start() for port in ports]
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

    server_pids = [s.process.pid for s in servers]
    pg_pids = postgres_pids()
    cpu_before = (cpu_seconds(server_pids), cpu_seconds(pg_pids), time.process_time())
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ingest = time.perf_counter() - started
    cpu = (cpu_seconds(server_pids) - cpu_before[0], cpu_seconds(pg_pids) - cpu_before[1], time.process_time() - cpu_before[2])
    for s in servers:
        s.stop()
    return ingest, cpu


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
    cpus = {name: [] for name, _, _ in setups}
    for r in range(args.rounds):
        for name, n, sqlite in setups:
            t, cpu = one_round(args, n, events, work, sqlite)
            times[name].append(t)
            cpus[name].append(cpu)
            print("round %d  %-22s %6.2f s  %8.0f events/s   CPU s: rulec %.2f, postgres %.2f, client %.2f"
                  % (r + 1, name, t, args.events / t, *cpu), flush=True)
    print()
    base = statistics.median(times["postgres, 1 process"])
    for name, _, _ in setups:
        m = statistics.median(times[name])
        rulec_cpu = statistics.median(c[0] for c in cpus[name])
        pg_cpu = statistics.median(c[1] for c in cpus[name])
        print("%-22s median %6.2f s  %8.0f events/s  (%.2fx postgres, 1 process)  %8.0f events per rulec CPU-second, %8.0f per postgres CPU-second"
              % (name, m, args.events / m, base / m, args.events / rulec_cpu, args.events / pg_cpu if pg_cpu else float("nan")))


if __name__ == "__main__":
    main()
