"""What the `rulec serve` benchmarks share (tools/bench_serve.py, tools/bench_hostile.py): starting the
server on 127.0.0.1 with a fresh state folder and a destination that is down, and reading its memory."""
import os
import re
import subprocess
import tempfile


def rss_mb(pid):
    """The process's resident memory in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def read_lines(path):
    """A recording's non-empty lines, without their line breaks."""
    with open(path, "rb") as f:
        return [l.rstrip(b"\n") for l in f if l.strip()]


def start_serve(binary, rules, extra=()):
    """`rulec serve RULES` on a free port; returns (process, port). Its standard error is a pipe,
    read up to the line that says where it listens."""
    state = tempfile.mkdtemp(prefix="rulec-bench-")
    env = dict(os.environ, RULEC_BENCH_KEY="bench")
    server = subprocess.Popen(
        [binary, "serve", rules, "--listen", "127.0.0.1:0", "--state", state, "--api-base", "http://127.0.0.1:9", *extra],
        stderr=subprocess.PIPE, env=env)
    while True:
        line = server.stderr.readline().decode()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            return server, int(m.group(1))
        if not line:
            raise SystemExit("the server did not start")
