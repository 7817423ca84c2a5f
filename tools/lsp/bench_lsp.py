"""How fast `rulec lsp` answers a change to a large rule file: the time from sending a
`didChange` (one character, inside one collector) to receiving its `publishDiagnostics`.

    python3 tools/lsp/bench_lsp.py .build/release/rulec [--collectors 10000] [--changes 50]

Run by hand, never in CI. Prints the open time and the median, p90 and maximum per change.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time


def generated(count):
    # The same realistic collector as Benchmarks/CheckBenchmarks (about 590 bytes each).
    parts = []
    for i in range(count):
        parts.append(f"""collector c{i} {{
  description "generated collector {i}"
  source clarifai/main/general-image-recognition version {i % 7:032x}
  destination acme/app-{i % 13}
  datasets [ds-{i % 5}]
  key env KEY_{i % 3}
  map {{
    dog, puppy -> canine
    cat, kitten -> feline
  }}
  pre_queue {{
    require any concept in [canine, feline] > 0.{i % 9 + 1}
    require max(concepts) < 0.6 or margin(concepts) < 0.1
    drop if metadata.source == "test-harness" and metadata.country in [US, CA]
    sample {i % 50 + 1}% by metadata.user_id
    limit {i + 1} per day
  }}
  post_queue {{
    require input.kind == image and length(input.text) < 500
  }}
}}

""")
    return "".join(parts)


class Client:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, method, params, request=False):
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def receive(self):
        length = None
        while True:
            line = self.process.stdout.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.process.stdout.read(length))

    def until(self, method, version=None):
        while True:
            message = self.receive()
            if message.get("method") == method and (version is None or message["params"].get("version") == version):
                return message


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rulec")
    parser.add_argument("--collectors", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    text = generated(args.collectors)
    lines = text.split("\n")
    client = Client([args.rulec, "lsp"])
    client.send("initialize", {"capabilities": {}}, request=True)
    client.receive()
    client.send("initialized", {})
    uri = "file:///tmp/rulec-bench/generated.rule"
    started = time.perf_counter()
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "rulec", "version": 1, "text": text}})
    client.until("textDocument/publishDiagnostics", 1)
    opened = time.perf_counter() - started
    # Each change rewrites one threshold digit of a collector in the middle, alternately making it
    # an error (a probability above 1: `0.X` becomes `9.X`) and fixing it.
    target = next(k for k, l in enumerate(lines) if l.startswith(f"collector c{args.collectors // 2} "))
    line = target + 11
    column = lines[line].index("> 0.") + 2
    times = []
    errors = 0
    for k in range(args.changes):
        version = k + 2
        new = "9" if k % 2 == 0 else "0"
        started = time.perf_counter()
        client.send("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": column}, "end": {"line": line, "character": column + 1}}, "text": new}]})
        published = client.until("textDocument/publishDiagnostics", version)
        times.append(time.perf_counter() - started)
        errors += len(published["params"]["diagnostics"])
    client.send("shutdown", {}, request=True)
    client.receive()
    client.send("exit", {})
    client.process.wait(timeout=10)
    times.sort()
    print(f"{args.collectors} collectors, {len(text) / 1e6:.1f} MB: open {opened * 1000:.0f} ms; "
          f"a change: median {statistics.median(times) * 1000:.1f} ms, p90 {times[int(len(times) * 0.9)] * 1000:.1f} ms, "
          f"max {times[-1] * 1000:.1f} ms ({args.changes} changes, {errors} diagnostics published in all)")
    if errors != args.changes // 2 + args.changes % 2:
        print(f"unexpected: {errors} diagnostics for {args.changes} changes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
