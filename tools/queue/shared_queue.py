"""What the tests and the benchmark of the shared PostgreSQL queue use: the server's databases, a
stand-in for Clarifai's PostInputs that keeps each input once (as Clarifai does, by id), `rulec serve`
processes on fixed ports, and a round-robin client that sends a recording's lines in batches."""
import glob
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def psql_binary():
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))), None)
    if not found:
        raise SystemExit("psql is missing (tools/queue/postgres.sh installs Debian's postgresql)")
    return found


def psql(port, sql, database="postgres"):
    """Runs SQL on the test server; returns its output, unaligned."""
    return subprocess.run(
        [psql_binary(), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database, "-Atqc", sql],
        check=True, capture_output=True, text=True).stdout.strip()


def fresh_database(port):
    name = "rulec_" + uuid.uuid4().hex
    psql(port, "CREATE DATABASE " + name)
    return name


def free_ports(n):
    sockets = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Destination:
    """Clarifai's PostInputs as far as delivery needs it: each input id is kept once; an id posted
    again is answered INPUT_DUPLICATE (30100), which rulec reads as delivered. Every body is read
    with Clarifai's own classes when clarifai-grpc is installed."""

    def __init__(self, delay=0.0):
        self.kept = {}  # id -> how many times it was posted
        self.requests = 0
        self.malformed = []
        self.times = []  # when each request arrived, for the rate limit
        self.lock = threading.Lock()
        self.delay = delay
        try:
            from clarifai_grpc.grpc.api import service_pb2
            from google.protobuf import json_format
            parse = lambda body: json_format.Parse(body, service_pb2.PostInputsRequest())  # noqa: E731
        except ImportError:
            parse = json.loads
        destination = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not re.fullmatch(r"/v2/users/[^/]+/apps/[^/]+/inputs", self.path):
                    return self.reply(404, {"status": {"code": 11101, "description": "Resource does not exist"}})
                try:
                    parse(body.decode())
                except Exception as error:  # noqa: BLE001
                    destination.malformed.append(str(error))
                if destination.delay:
                    time.sleep(destination.delay)
                statuses = []
                with destination.lock:
                    destination.requests += 1
                    destination.times.append(time.monotonic())
                    for given in json.loads(body)["inputs"]:
                        seen = destination.kept.get(given["id"], 0)
                        destination.kept[given["id"]] = seen + 1
                        statuses.append({"id": given["id"], "status": {"code": 30100 if seen else 30001}})
                mixed = any(s["status"]["code"] == 30100 for s in statuses)
                self.reply(200, {"status": {"code": 10010 if mixed else 10000}, "inputs": statuses})

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the process that asked was killed: its lease ends, another one asks again

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self):
        with self.lock:
            return set(self.kept)

    def close(self):
        self.server.shutdown()


class Serve:
    """One `rulec serve` process on a fixed port, restartable: on the PostgreSQL queue `queue`, or
    (queue None) on the SQLite file of a state folder of its own."""

    def __init__(self, binary, rules, queue, port, api_base, lease=3, log=None):
        self.binary, self.rules, self.queue, self.port, self.api_base, self.lease = binary, rules, queue, port, api_base, lease
        self.log = log
        self.process = None
        self.state = None if queue else tempfile.mkdtemp(prefix="rulec-serve-state-")

    def start(self):
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        env = dict(os.environ, RULEC_BENCH_KEY="key")
        where = ["--queue", self.queue, "--state", "/nonexistent-state-unused"] if self.queue else ["--state", self.state]
        self.process = subprocess.Popen(
            [self.binary, "serve", self.rules, "--listen", "127.0.0.1:%d" % self.port, "--api-base", self.api_base,
             "--lease", str(self.lease), *where],
            stdout=out, stderr=out, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("rulec serve exited with %d" % self.process.returncode)
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=1).read()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("rulec serve did not start")

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def metric(self, name):
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=5).read().decode()
        m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None


def post(port, body, timeout=30):
    """POSTs a batch of lines; returns (status, answer)."""
    request = urllib.request.Request("http://127.0.0.1:%d/v1/events" % port, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def send_round_robin(ports, batches, on_batch=None, pause=0.0):
    """Sends each batch to the next process in turn; a batch refused (503) or cut off (a killed
    process) goes to the next process until one takes it. Returns how many sends were retried."""
    retried = 0
    k = 0
    for n, body in enumerate(batches):
        while True:
            port = ports[k % len(ports)]
            k += 1
            try:
                status, _ = post(port, body)
                if status == 202:
                    break
            except OSError:
                pass
            retried += 1
            time.sleep(0.05)
        if on_batch:
            on_batch(n)
        if pause:
            time.sleep(pause)
    return retried


def batches_of(path, lines_per_batch):
    with open(path, "rb") as f:
        lines = [l for l in f if l.strip()]
    return [b"".join(lines[i:i + lines_per_batch]) for i in range(0, len(lines), lines_per_batch)]


def expected_ids(binary, rules, events, workdir):
    """The ids `rulec run` accepts from the same recording: what the destination must end with."""
    out = os.path.join(workdir, "expected.jsonl")
    subprocess.run([binary, "run", rules, "--events", events, "--out", out], check=True, capture_output=True,
                   env=dict(os.environ, RULEC_BENCH_KEY="key"))
    with open(out) as f:
        return {json.loads(line)["id"] for line in f if line.strip()}


def recording(workdir, events, seed):
    path = os.path.join(workdir, "recording-%d-%d.jsonl" % (events, seed))
    if not os.path.exists(path):
        with open(path, "wb") as f:
            subprocess.run(["python3", os.path.join(ROOT, "tools", "generate_recording.py"), "--events", str(events),
                            "--seed", str(seed)], check=True, stdout=f)
    return path


def random_moments(n, seconds, rng=random):
    return sorted(rng.uniform(0, seconds) for _ in range(n))
