#!/usr/bin/env python3
"""Latency the proxy adds (run by hand): PostModelOutputs calls at a fixed rate, straight to a stand-in
upstream and through `rulec proxy`, in alternating rounds, each call timed from the moment it was due
(so a stall delays the calls behind it and counts, not hides). Prints p50/p99/p99.9 of both and the
difference. The stand-in answers at once with a real-sized answer; the proxy runs the example rules,
records nothing, and its destination is down, so accepted inputs stay queued on disk.

    swift build -c release
    python3 tools/bench_proxy.py --binary .build/release/rulec --rules rules/ --rate 1000 --seconds 10 --rounds 3
"""
import argparse
import http.client
import json
import multiprocessing
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

PATH = "/v2/users/clarifai/apps/main/models/general-image-recognition/outputs"


def answer_bytes():
    output = {
        "id": "3b0d7a51c9e24f0a8e6b1d2c4f5a6e70", "status": {"code": 10000, "description": "Ok"},
        "created_at": "2026-12-03T10:00:00.123456Z",
        "model": {"id": "general-image-recognition", "name": "general", "app_id": "main", "user_id": "clarifai",
                  "model_version": {"id": "aa7f35c01e0642fda5cf400f543e7c40", "status": {"code": 21100}}},
        "input": {"id": "in-1", "data": {"image": {"url": "https://hosted.example/in-1.jpg"}}},
        "data": {"concepts": [{"id": "ai_%d" % k, "name": "concept-%d" % k, "value": 0.5 / (k + 1), "app_id": "main"}
                              for k in range(20)]},
    }
    body = json.dumps({"status": {"code": 10000, "description": "Ok"}, "outputs": [output]}).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    return head + body


def stand_in(port_out):
    """A minimal HTTP/1.1 keep-alive server on asyncio: every request gets the same answer."""
    import asyncio

    reply = answer_bytes()

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            self.buffer = b""

        def data_received(self, data):
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].decode("latin-1")
                m = re.search(r"(?i)content-length:\s*(\d+)", head)
                length = int(m.group(1)) if m else 0
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length:]
                self.transport.write(reply)

    async def main():
        server = await asyncio.get_running_loop().create_server(Protocol, "127.0.0.1", 0)
        port_out.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def load(port, rate, seconds, connections=8):
    """Calls at `rate` a second for `seconds`; the latency of each from when it was due, in ms."""
    body = json.dumps({"inputs": [{"id": "in-1", "data": {"image": {"url": "https://caller.example/in-1.jpg"}}}]}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Key bench"}
    due = queue.Queue()
    latencies = []
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            t = due.get()
            if t is None:
                return
            conn.request("POST", PATH, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            done = time.perf_counter()
            with lock:
                latencies.append((done - t) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)
    for k in range(total):
        t = start + k / rate
        delay = t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        due.put(t)
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    return sorted(latencies)


def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--rules", default="rules/")
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    ports = multiprocessing.Queue()
    upstream = multiprocessing.Process(target=stand_in, args=(ports,), daemon=True)
    upstream.start()
    upstream_port = ports.get(timeout=10)
    with tempfile.TemporaryDirectory() as folder:
        # The rules as given, with every key a variable this benchmark sets (their key files are not here).
        rules = os.path.join(folder, "rules")
        shutil.copytree(args.rules, rules)
        env = dict(os.environ)
        for root, _, names in os.walk(rules):
            for name in names:
                if name.endswith(".rule"):
                    path = os.path.join(root, name)
                    with open(path) as f:
                        text = re.sub(r'key file "[^"]*"', "key env RULEC_BENCH_KEY", f.read())
                    with open(path, "w") as f:
                        f.write(text)
                    for variable in re.findall(r"key env (\w+)", text) + ["RULEC_BENCH_KEY"]:
                        env.setdefault(variable, "bench")
        proxy = subprocess.Popen(
            [args.binary, "proxy", rules, "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:%d" % upstream_port,
             "--state", os.path.join(folder, "state"), "--api-base", "http://127.0.0.1:9"],
            stderr=subprocess.PIPE, text=True, env=env)
        port = None
        for line in proxy.stderr:
            m = re.search(r"proxying .* on 127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            raise SystemExit("rulec proxy did not start: %s" % proxy.stderr.read())
        threading.Thread(target=lambda: [None for _ in proxy.stderr], daemon=True).start()
        try:
            load(port, args.rate, 1)  # warm-up
            load(upstream_port, args.rate, 1)
            results = {"direct": [], "proxy": []}
            for r in range(args.rounds):
                for name, p in [("direct", upstream_port), ("proxy", port)]:
                    lat = load(p, args.rate, args.seconds)
                    results[name].append(lat)
                    print("round %d %-6s p50 %.3f  p99 %.3f  p99.9 %.3f ms (%d calls)" % (
                        r + 1, name, pct(lat, 50), pct(lat, 99), pct(lat, 99.9), len(lat)), flush=True)
            for name in results:
                all_ = sorted(x for lat in results[name] for x in lat)
                results[name] = all_
                print("%-6s p50 %.3f  p99 %.3f  p99.9 %.3f ms" % (name, pct(all_, 50), pct(all_, 99), pct(all_, 99.9)))
            print("added by the proxy: p50 %.3f ms, p99 %.3f ms" % (
                pct(results["proxy"], 50) - pct(results["direct"], 50), pct(results["proxy"], 99) - pct(results["direct"], 99)))
        finally:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(timeout=30)
            upstream.terminate()


if __name__ == "__main__":
    main()
