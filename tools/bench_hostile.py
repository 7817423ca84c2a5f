#!/usr/bin/env python3
"""`rulec serve` under many and hostile clients (run by hand): starts the server on 127.0.0.1 with a
fresh state folder and a destination that is down (the backlog stays on disk), then, at once:

  - --clients keep-alive clients (default 500), each posting --small events a request in a loop;
  - --idle connections that send nothing and --slow ones that trickle a header byte a second
    (slowloris), which the server must cut off (--idle-timeout, --header-timeout) without starving
    the others;
  - --big clients posting bodies of --big-mb MB at the same time, which the body budget
    (--max-body-memory) answers 503 + Retry-After beyond its bound;

while it samples the server's resident memory and open descriptors every 100 ms. Prints requests a
second, latency percentiles of the keep-alive clients, the answers by status, how the idle and slow
connections ended, and peak memory.

    swift build -c release
    python3 tools/generate_recording.py --events 20000 --seed 1 > /tmp/hostile.jsonl
    python3 tools/bench_hostile.py --binary .build/release/rulec --rules rules/bench/R2.rule --events /tmp/hostile.jsonl
"""
import argparse
import asyncio
import os
import re
import time

from serve_harness import read_lines, rss_mb, start_serve


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


async def read_response(reader):
    """One HTTP/1.1 answer with a Content-Length; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if m:
        await reader.readexactly(int(m.group(1)))
    return status


async def keep_alive_client(port, bodies, k, deadline, latencies, statuses):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            body = bodies[k % len(bodies)]
            k += 7
            start = time.perf_counter()
            writer.write(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status = await read_response(reader)
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
    except (ConnectionError, asyncio.IncompleteReadError) as e:
        statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
    finally:
        writer.close()


async def hostile_connection(port, slow, deadline, ended):
    """An idle connection, or one that sends a header a byte a second; records when the server ends it."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        ended.append(("refused", 0, type(e).__name__))
        return
    opened = time.perf_counter()
    header = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
    i = 0
    try:
        while time.perf_counter() < deadline:
            if slow:
                writer.write(header[i:i + 1])
                i += 1
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
                if not data:
                    ended.append(("closed", time.perf_counter() - opened, ""))
                    return
                ended.append(("answered", time.perf_counter() - opened, data.split(b"\r\n", 1)[0].decode(errors="replace")))
                return
            except asyncio.TimeoutError:
                pass
        ended.append(("still open", time.perf_counter() - opened, ""))
    except ConnectionError as e:
        ended.append(("reset", time.perf_counter() - opened, type(e).__name__))
    finally:
        writer.close()


async def big_client(port, megabytes, line, deadline, statuses):
    body = (line + b"\n") * (megabytes * 1024 * 1024 // (len(line) + 1))
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body))
            for i in range(0, len(body), 1 << 20):
                writer.write(body[i:i + (1 << 20)])
                await writer.drain()
            status = await read_response(reader)
            statuses[f"big {status}"] = statuses.get(f"big {status}", 0) + 1
            writer.close()
            if status == 503:
                await asyncio.sleep(0.5)
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            statuses[f"big {type(e).__name__}"] = statuses.get(f"big {type(e).__name__}", 0) + 1


async def sample(pid, deadline, samples):
    while time.perf_counter() < deadline:
        samples.append((rss_mb(pid), open_fds(pid)))
        await asyncio.sleep(0.1)


async def campaign(args, port, pid, lines):
    bodies = [b"\n".join(lines[i:i + args.small]) for i in range(0, len(lines) - args.small + 1, args.small)]
    deadline = time.perf_counter() + args.seconds
    latencies, statuses, ended, samples = [], {}, [], []
    tasks = [sample(pid, deadline, samples)]
    tasks += [hostile_connection(port, False, deadline, ended) for _ in range(args.idle)]
    tasks += [hostile_connection(port, True, deadline, ended) for _ in range(args.slow)]
    tasks += [big_client(port, args.big_mb, lines[0], deadline, statuses) for _ in range(args.big)]
    tasks += [keep_alive_client(port, bodies, k, deadline, latencies, statuses) for k in range(args.clients)]
    await asyncio.gather(*tasks)
    return latencies, statuses, ended, samples


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=".build/release/rulec")
    p.add_argument("--rules", default="rules/bench/R2.rule")
    p.add_argument("--events", required=True)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--small", type=int, default=10)
    p.add_argument("--idle", type=int, default=300)
    p.add_argument("--slow", type=int, default=300)
    p.add_argument("--big", type=int, default=8)
    p.add_argument("--big-mb", type=int, default=48)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--rounds", type=int, default=1, help="campaigns one after the other against the same server")
    p.add_argument("--server-args", default="--idle-timeout 10 --header-timeout 5",
                   help="extra arguments for rulec serve (its connection limits)")
    args = p.parse_args()

    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    lines = read_lines(args.events)
    server, port = start_serve(args.binary, args.rules, args.server_args.split())
    try:
        for round in range(args.rounds):
            before = rss_mb(server.pid)
            start = time.perf_counter()
            result = asyncio.run(campaign(args, port, server.pid, lines))
            report(args, round, time.perf_counter() - start, before, rss_mb(server.pid), *result)
    finally:
        server.terminate()
        server.wait()


def report(args, round, elapsed, before, after, latencies, statuses, ended, samples):
    latencies.sort()

    def q(f):
        return latencies[min(len(latencies) - 1, int(f * len(latencies)))] * 1000 if latencies else float("nan")

    print(f"round {round + 1}: {args.clients} keep-alive clients, {args.small} events a request, {elapsed:.1f} s, "
          f"with {args.idle} idle, {args.slow} slowloris and {args.big} clients posting {args.big_mb} MB bodies")
    print(f"  requests: {len(latencies)} ({len(latencies) / elapsed:.0f}/s, {len(latencies) * args.small / elapsed:.0f} events/s)")
    print(f"  latency ms: p50 {q(0.5):.1f}  p90 {q(0.9):.1f}  p99 {q(0.99):.1f}  max {q(1.0):.1f}")
    print(f"  answers: {dict(sorted((str(k), v) for k, v in statuses.items()))}")
    kinds = {}
    for kind, seconds, detail in ended:
        kinds.setdefault(kind, []).append(seconds)
    for kind, times in sorted(kinds.items()):
        times.sort()
        print(f"  idle/slow connections {kind}: {len(times)} (after {times[len(times) // 2]:.1f} s median, {times[-1]:.1f} s max)")
    peak = max(s[0] for s in samples) if samples else 0
    fds = max(s[1] for s in samples) if samples else 0
    print(f"  server RSS MB: before {before:.0f}, peak {peak:.0f}, after {after:.0f}; peak open descriptors {fds}")


if __name__ == "__main__":
    main()
