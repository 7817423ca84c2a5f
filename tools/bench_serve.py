#!/usr/bin/env python3
"""Ingest benchmark for `rulec serve` (run by hand): starts the server on 127.0.0.1 with a fresh state
folder and a destination that is down (so the backlog stays on disk), then measures

  1. sustained ingest with batched bodies (JSON Lines, --batch events a request, one connection);
  2. acknowledgement latency in small requests (--small events each) at a fixed --rate events/s;
  3. the server's resident memory before and after.

    swift build -c release
    python3 tools/generate_recording.py --events 200000 --seed 1 > /tmp/bench.jsonl
    python3 tools/bench_serve.py --binary .build/release/rulec --rules rules/bench/R2.rule --events /tmp/bench.jsonl
"""
import argparse
import http.client
import sys
import threading
import time

from serve_harness import read_lines, rss_mb, start_serve


def post(conn, body):
    conn.request("POST", "/v1/events", body=body, headers={"Content-Type": "application/x-ndjson"})
    r = conn.getresponse()
    r.read()
    if r.status != 202:
        raise SystemExit(f"unexpected status {r.status}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=".build/release/rulec")
    p.add_argument("--rules", default="rules/bench/R2.rule")
    p.add_argument("--events", required=True)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--small", type=int, default=10)
    p.add_argument("--rate", type=int, default=10000)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--connections", type=int, default=2, help="client connections for the batched phase")
    args = p.parse_args()

    lines = read_lines(args.events)
    server, port = start_serve(args.binary, args.rules)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        before = rss_mb(server.pid)
        # 1. Batched bodies, prepared in advance, on several connections.
        bodies = [b"\n".join(lines[i:i + args.batch]) for i in range(0, len(lines) - args.batch + 1, args.batch)]
        counts = [0] * args.connections
        start = time.perf_counter()

        def pump(worker):
            c = http.client.HTTPConnection("127.0.0.1", port)
            k = worker
            while time.perf_counter() - start < args.seconds:
                post(c, bodies[k % len(bodies)])
                counts[worker] += args.batch
                k += args.connections

        threads = [threading.Thread(target=pump, args=(w,)) for w in range(args.connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        sent = sum(counts)
        print(f"batched ingest: {sent} events in {elapsed:.2f} s = {sent / elapsed:,.0f} events/s "
              f"({args.batch} events a request, {args.connections} connections)")
        # 2. Small requests at a fixed rate.
        interval = args.small / args.rate
        latencies = []
        start = time.perf_counter()
        next_send = start
        k = 0
        while time.perf_counter() - start < args.seconds:
            now = time.perf_counter()
            if now < next_send:
                time.sleep(next_send - now)
            i = (k * args.small) % len(lines)
            body = b"\n".join(lines[i:i + args.small] or lines[:args.small])
            t0 = time.perf_counter()
            post(conn, body)
            latencies.append(time.perf_counter() - t0)
            next_send += interval
            k += 1
        latencies.sort()
        achieved = k * args.small / (time.perf_counter() - start)
        def pct(q):
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
        print(f"small requests: {k} requests of {args.small} events, {achieved:,.0f} events/s offered "
              f"(target {args.rate:,}); acknowledgement p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms")
        print(f"server RSS: {before:.0f} MB before, {rss_mb(server.pid):.0f} MB after "
              f"(the destination is down: the backlog is on disk)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
