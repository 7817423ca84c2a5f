#!/usr/bin/env python3
"""End-to-end test of `rulec proxy` with Clarifai's own client in front of it.

The client is the official clarifai-grpc package's JSON channel (what the Python SDK uses over REST),
with its base URL pointed at the proxy. Behind the proxy, a stand-in for Clarifai's API (in this file)
answers PostModelOutputs, "get user me", ListModels, and PostInputs (the destination of collected
inputs). Checked: answers pass through byte for byte; collected inputs reach the destination, with the
caller's own inputs and only for the caller a collector names; the recording dry-runs to the same
inputs; upstream failing, slow and down; the metrics; a clean exit.

Usage: proxy_e2e.py RULEC_BINARY
"""
import base64
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import json_format, struct_pb2

USERS = {"Key alice-pat": "alice", "Key bob-pat": "bob"}


class StandIn:
    """Clarifai's API as far as the test needs it; `mode` makes it fail or slow down."""

    def __init__(self):
        self.mode = "ok"
        self.posted = []  # PostInputs bodies received
        self.annotations = []  # annotations received (PostAnnotations)
        self.malformed = []  # bodies Clarifai's parser refused
        self.predicts = 0
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, extra=()):
                data = body if isinstance(body, bytes) else json.dumps(body, indent=1).encode()
                if stand_in.mode == "gzip" and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                    data = gzip.compress(data)
                    extra = list(extra) + [("Content-Encoding", "gzip")]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Stand-In", "clarifai")
                self.send_header("Set-Cookie", "a=1")
                self.send_header("Set-Cookie", "b=2")
                for name, value in extra:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n) or b"{}")

            def do_GET(self):
                if self.path.split("?")[0] == "/v2/users/me":
                    user = USERS.get(self.headers.get("Authorization"))
                    if user is None:
                        return self.reply(401, {"status": {"code": 11009, "description": "API key not found"}})
                    return self.reply(200, {"status": {"code": 10000, "description": "Ok"}, "user": {"id": user}})
                if re.fullmatch(r"/v2/users/[^/]+/apps/[^/]+/models(\?.*)?", self.path):
                    return self.reply(200, {"status": {"code": 10000, "description": "Ok"}, "models": [{"id": "m"}]})
                self.reply(404, {"status": {"code": 11101, "description": "Resource does not exist"}})

            def do_POST(self):
                body = self.body()
                if stand_in.mode == "down":
                    # Gone mid-connection: no answer at all, and the connection closed.
                    self.close_connection = True
                    return
                m = re.fullmatch(r"/v2/users/([^/]+)/apps/([^/]+)/(annotations|inputs)", self.path)
                if m:
                    # Clarifai's own parser, strict: what rulec posts is a PostInputsRequest or a
                    # PostAnnotationsRequest.
                    request = service_pb2.PostAnnotationsRequest() if m.group(3) == "annotations" else service_pb2.PostInputsRequest()
                    try:
                        json_format.Parse(json.dumps(body), request)
                    except Exception as error:  # noqa: BLE001
                        stand_in.malformed.append("%s: %s" % (m.group(3), error))
                if m and m.group(3) == "annotations":
                    with stand_in.lock:
                        known = {i["id"] for b in stand_in.posted for i in b["inputs"]}
                        missing = [a for a in body.get("annotations", []) if a.get("input_id") not in known]
                        if not missing:
                            stand_in.annotations.extend(body.get("annotations", []))
                    if missing:
                        return self.reply(404, {"status": {"code": 11101, "description": "Resource does not exist"}})
                    statuses = [{"id": a.get("id"), "status": {"code": 10000}} for a in body.get("annotations", [])]
                    return self.reply(200, {"status": {"code": 10000, "description": "Ok"}, "annotations": statuses})
                if m:
                    with stand_in.lock:
                        stand_in.posted.append(body)
                    inputs = [{"id": i.get("id"), "status": {"code": 30001}} for i in body.get("inputs", [])]
                    return self.reply(200, {"status": {"code": 10000, "description": "Ok"}, "inputs": inputs})
                m = re.fullmatch(r"/v2/users/([^/]+)/apps/([^/]+)/models/([^/]+)(?:/versions/([^/]+))?/outputs", self.path)
                if not m:
                    return self.reply(404, {"status": {"code": 11101, "description": "Resource does not exist"}})
                if stand_in.mode == "fail":
                    return self.reply(500, b'{"status":{"code":98005,"description":"internal error"}}', [("Retry-After", "3")])
                if stand_in.mode == "slow":
                    time.sleep(1.5)
                with stand_in.lock:
                    stand_in.predicts += 1
                user, app, model, version = m.groups()
                outputs = []
                for k, given in enumerate(body.get("inputs", [])):
                    input_id = given.get("id") or "generated-%d-%d" % (stand_in.predicts, k)
                    score = (given.get("data", {}).get("metadata") or {}).get("score", 0.9)
                    outputs.append({
                        "id": "out-%s" % input_id,
                        "status": {"code": 10000, "description": "Ok"},
                        "created_at": "2026-12-03T10:00:00.123456Z",
                        "model": {"id": model, "name": "M", "app_id": app, "user_id": user,
                                  "model_version": {"id": version or "v1", "status": {"code": 21100}},
                                  "output_info": {"data": {"concepts": [{"id": "dog"}]}}},
                        "input": {"id": input_id, "data": {"image": {"url": "https://hosted.example/%s.jpg" % input_id}}},
                        "data": {"concepts": [{"id": "dog", "name": "dog", "value": score, "app_id": app},
                                              {"id": "cat", "name": "cat", "value": 1 - score, "app_id": app}],
                                 "regions": [{"id": "reg-%s" % input_id, "value": score,
                                              "region_info": {"bounding_box": {"top_row": 0.1, "left_col": 0.2,
                                                                               "bottom_row": 0.6, "right_col": 0.7}},
                                              "data": {"concepts": [{"id": "dog", "name": "dog", "value": score}]}}]},
                    })
                self.reply(200, {"status": {"code": 10000, "description": "Ok", "req_id": "r1"}, "outputs": outputs})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received_ids(self):
        with self.lock:
            return sorted(i["id"] for body in self.posted for i in body.get("inputs", []))

    def stop(self):
        self.mode = "down"
        self.server.shutdown()
        self.server.server_close()


RULES = """
collector alices-uncertain {
  source u/a/m caller alice
  destination dest/collected
  key env RULEC_E2E_KEY
  pre_queue {
    require max(concepts) < 0.8
  }
}

collector everyones-confident {
  source u/a/m
  destination dest/confident
  key env RULEC_E2E_KEY
  collect_outputs
  pre_queue {
    require concept(dog) > 0.95
  }
}
"""


def raw(method, url, body=None, headers=None):
    """One request with the standard library: status, headers (as a list), body bytes."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers.items(), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.items(), e.read()


def comparable(headers):
    skip = {"date", "server", "connection", "keep-alive", "transfer-encoding"}
    return sorted((k.lower(), v) for k, v in headers if k.lower() not in skip)


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    print("ok:", message)


def main():
    binary = os.path.abspath(sys.argv[1])
    stand_in = StandIn()
    upstream = "http://127.0.0.1:%d" % stand_in.port
    with tempfile.TemporaryDirectory() as folder:
        rules = os.path.join(folder, "proxy.rule")
        with open(rules, "w") as f:
            f.write(RULES)
        record = os.path.join(folder, "recorded")
        env = dict(os.environ, RULEC_E2E_KEY="destination-key")
        proxy = subprocess.Popen(
            [binary, "proxy", rules, "--listen", "127.0.0.1:0", "--upstream", upstream,
             "--state", os.path.join(folder, "state"), "--record", record, "--record-max-bytes", "500"],
            stderr=subprocess.PIPE, env=env, text=True)
        try:
            log = []
            m = None
            for line in proxy.stderr:
                log.append(line)
                m = re.search(r"proxying .* on 127\.0\.0\.1:(\d+)", line)
                if m:
                    break
            check(m is not None, "rulec proxy listens (%s)" % "".join(log).strip())
            threading.Thread(target=lambda: log.extend(proxy.stderr), daemon=True).start()
            base = "http://127.0.0.1:%s" % m.group(1)
            run_checks(binary, base, upstream, stand_in, rules, record, log)
        finally:
            proxy.send_signal(signal.SIGTERM)
            try:
                code = proxy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proxy.kill()
                code = -9
        check(code == 0, "SIGTERM stops the proxy cleanly")
        check(not any("alice-pat" in l or "destination-key" in l for l in log), "no credential in the log")


def predict(stub, key, inputs):
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id="u", app_id="a"), model_id="m", inputs=inputs)
    return stub.PostModelOutputs(request, metadata=(("authorization", key),))


def image(input_id, url, score):
    metadata = struct_pb2.Struct()
    metadata.update({"score": score})
    return resources_pb2.Input(
        id=input_id, data=resources_pb2.Data(image=resources_pb2.Image(url=url), metadata=metadata))


def run_checks(binary, base, upstream, stand_in, rules, record, log):
    channel = ClarifaiChannel.get_json_channel(base_url=base)
    stub = service_pb2_grpc.V2Stub(channel)

    # Clarifai's own client, through the proxy.
    alice = predict(stub, "Key alice-pat", [
        image("a-low", "https://caller.example/a-low.jpg", 0.5),
        image("a-high", "https://caller.example/a-high.jpg", 0.99),
        image("", "https://caller.example/unnamed.jpg", 0.6),
    ])
    check(alice.status.code == status_code_pb2.SUCCESS and len(alice.outputs) == 3, "PostModelOutputs through the proxy")
    bob = predict(stub, "Key bob-pat", [image("b-low", "https://caller.example/b-low.jpg", 0.4),
                                         image("b-high", "https://caller.example/b-high.jpg", 0.97)])
    check(bob.status.code == status_code_pb2.SUCCESS, "a second caller's call")
    stand_in.mode = "gzip"
    zipped = predict(stub, "Key alice-pat", [image("a-gz", "https://caller.example/a-gz.jpg", 0.3)])
    stand_in.mode = "ok"
    check(zipped.status.code == status_code_pb2.SUCCESS, "a gzip answer passes through")
    models = stub.ListModels(service_pb2.ListModelsRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="u", app_id="a")),
                             metadata=(("authorization", "Key alice-pat"),))
    check(models.status.code == status_code_pb2.SUCCESS and models.models[0].id == "m", "an unrelated call (ListModels)")
    me = stub.GetUser(service_pb2.GetUserRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="me")),
                      metadata=(("authorization", "Key alice-pat"),))
    check(me.user.id == "alice", "get user me through the proxy")

    # Byte for byte: the same request straight to the upstream and through the proxy.
    body = json.dumps({"inputs": [{"id": "same", "data": {"image": {"url": "https://caller.example/same.jpg"}, "metadata": {"score": 0.99}}}]}).encode()
    headers = {"Authorization": "Key bob-pat", "Content-Type": "application/json"}
    for method, path, payload in [("POST", "/v2/users/u/apps/a/models/m/outputs", body),
                                  ("GET", "/v2/users/u/apps/a/models?page=1", None),
                                  ("GET", "/v2/nothing/here", None)]:
        direct = raw(method, upstream + path, payload, headers)
        proxied = raw(method, base + path, payload, headers)
        check(direct[0] == proxied[0] and direct[2] == proxied[2], "%s %s: the same status and body bytes" % (method, path))
        check(comparable(direct[1]) == comparable(proxied[1]), "%s %s: the same headers" % (method, path))

    # Collected: alice's uncertain inputs (her own URLs), everyone's confident ones.
    expected_alice = {"a-low", "generated-1-2", "a-gz"}
    expected_confident = {"a-high", "b-high", "same"}
    deadline = time.time() + 20
    while time.time() < deadline and len(stand_in.received_ids()) < len(expected_alice) + len(expected_confident):
        time.sleep(0.1)
    with stand_in.lock:
        posted = [i for b in stand_in.posted for i in b["inputs"]]
    by_collector = {}
    for item in posted:
        rulec = item["data"]["metadata"]["rulec"]
        by_collector.setdefault(rulec["collector"], set()).add(rulec["source_input_id"])
    check(by_collector.get("alices-uncertain") == expected_alice, "alice's uncertain inputs are collected, bob's not: %s" % by_collector)
    check(by_collector.get("everyones-confident") == expected_confident, "every caller's confident inputs are collected")
    # collect_outputs: the confident inputs carry their concepts, and their regions follow as annotations.
    confident = {i["id"]: i for i in posted if i["data"]["metadata"]["rulec"]["collector"] == "everyones-confident"}
    check(all(i["data"].get("concepts") and "regions" not in i["data"] for i in confident.values()),
          "collected inputs carry the prediction's concepts, not its regions")
    check(all("concepts" not in i["data"] for i in posted if i["id"] not in confident), "other collectors copy no concepts")
    deadline = time.time() + 20
    while time.time() < deadline and len(stand_in.annotations) < len(confident):
        time.sleep(0.1)
    with stand_in.lock:
        annotated = {a["input_id"]: a for a in stand_in.annotations}
    check(set(annotated) == set(confident), "each confident input gets its regions as an annotation (%s)" % sorted(annotated))
    check(all(a["data"]["regions"][0]["region_info"]["bounding_box"]["top_row"] == 0.1 for a in annotated.values()),
          "the annotation holds the predicted box")
    check(not stand_in.malformed, "Clarifai's parser reads every PostInputs and PostAnnotations body: %s" % stand_in.malformed)
    urls = {i["data"]["metadata"]["rulec"]["source_input_id"]: i["data"]["image"]["url"] for i in posted}
    check(urls["a-low"] == "https://caller.example/a-low.jpg" and urls["generated-1-2"] == "https://caller.example/unnamed.jpg",
          "the caller's own input is copied, not Clarifai's echo")

    # The recording dry-runs to the same inputs.
    files = sorted(os.path.join(record, f) for f in os.listdir(record))
    check(len(files) >= 1, "outputs are recorded (%s)" % files)
    out = subprocess.run([binary, "run", rules, "--events", *files], capture_output=True, text=True)
    check(out.returncode == 0, "rulec run reads the recording: %s" % out.stderr.strip())
    dry = {}
    for line in out.stdout.splitlines():
        rulec = json.loads(line)["data"]["metadata"]["rulec"]
        dry.setdefault(rulec["collector"], set()).add(rulec["source_input_id"])
    check(dry == by_collector, "the dry-run of the recording accepts what the proxy collected")

    # Clarifai's largest call: 128 inputs with their bytes (base64 in JSON, 8 MiB in all). It passes
    # through unchanged, and the collected inputs carry the caller's bytes.
    blobs = {"big-%03d" % k: base64.b64encode(os.urandom(48 << 10)).decode() for k in range(128)}
    big = json.dumps({"inputs": [{"id": i, "data": {"image": {"base64": b}, "metadata": {"score": 0.99}}}
                                 for i, b in blobs.items()]}).encode()
    direct = raw("POST", upstream + "/v2/users/u/apps/a/models/m/outputs", big, headers)
    proxied = raw("POST", base + "/v2/users/u/apps/a/models/m/outputs", big, headers)
    check(direct[0] == proxied[0] == 200 and direct[2] == proxied[2], "128 inputs with bytes: the same answer (%d bytes in)" % len(big))
    deadline = time.time() + 30
    while time.time() < deadline and sum(i.startswith("everyones-confi-big-") for i in stand_in.received_ids()) < 128:
        time.sleep(0.1)
    with stand_in.lock:
        copied = {i["data"]["metadata"]["rulec"]["source_input_id"]: i["data"]["image"].get("base64")
                  for b in stand_in.posted for i in b["inputs"] if i["id"].startswith("everyones-confi-big-")}
    check(copied == blobs, "the 128 collected inputs carry the caller's bytes (%d of 128)" % len(copied))

    # Upstream failing: passed through as it is, nothing collected.
    before = len(stand_in.received_ids())
    stand_in.mode = "fail"
    direct = raw("POST", upstream + "/v2/users/u/apps/a/models/m/outputs", body, headers)
    proxied = raw("POST", base + "/v2/users/u/apps/a/models/m/outputs", body, headers)
    check(proxied[0] == 500 and proxied[2] == direct[2] and ("Retry-After", "3") in proxied[1], "a failing upstream's answer passes through")
    # Upstream slow: the call waits for it.
    stand_in.mode = "slow"
    started = time.time()
    slow = predict(stub, "Key bob-pat", [image("slow-1", "https://caller.example/slow.jpg", 0.2)])
    check(slow.status.code == status_code_pb2.SUCCESS and time.time() - started >= 1.4, "a slow upstream's answer is waited for")
    stand_in.mode = "ok"
    time.sleep(1)
    check(len(stand_in.received_ids()) == before, "nothing is collected from a failed call or from bob's uncertain input")

    def wait_for(input_id):
        deadline = time.time() + 20
        while time.time() < deadline:
            with stand_in.lock:
                if any(i["data"]["metadata"]["rulec"]["source_input_id"] == input_id for b in stand_in.posted for i in b["inputs"]):
                    return True
            time.sleep(0.1)
        return False

    # The disk fails: the call succeeds, the outputs are still collected, the failure is counted.
    import shutil
    shutil.rmtree(record)
    open(record, "w").close()  # where the folder was, a file: no recording file can be made
    for k in range(3):
        call = predict(stub, "Key alice-pat", [image("a-disk-%d" % k, "https://caller.example/disk.jpg", 0.3)])
        check(call.status.code == status_code_pb2.SUCCESS, "a call while the recording fails (%d)" % k)
    check(wait_for("a-disk-2"), "its outputs are still collected")

    # Hot reload: a rule file edit changes what is collected, with no restart.
    with open(rules, "w") as f:
        f.write(RULES.replace("concept(dog) > 0.95", "concept(dog) > 0.5"))
    deadline = time.time() + 10
    while time.time() < deadline and not any("rules reloaded" in l for l in log):
        time.sleep(0.1)
    check(any("rules reloaded" in l for l in log), "an edited rule file is reloaded")
    predict(stub, "Key bob-pat", [image("b-after-reload", "https://caller.example/b2.jpg", 0.6)])
    check(wait_for("b-after-reload"), "the reloaded rules collect what the old ones did not")

    metrics = raw("GET", base + "/metrics")[2].decode()
    check('rulec_proxy_collection_failures_total{stage="record"}' in metrics, "/metrics counts the recording failures")
    check('rulec_proxy_requests_total{call="post_model_outputs"}' in metrics, "/metrics counts the calls")
    if shutil.which("promtool") or os.environ.get("RULEC_REQUIRE_PROMTOOL") == "1":
        checked = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
        check(checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(),
              "promtool check metrics finds nothing to say: %s" % (checked.stdout + checked.stderr).strip())
    check('rulec_collected_outputs_total{collector="everyones-confident",kind="regions"}' in metrics
          and re.search(r"^rulec_annotations_delivered_total [1-9]", metrics, re.M) is not None,
          "/metrics counts the collected outputs and the annotations delivered")
    check("alice-pat" not in metrics and "bob-pat" not in metrics, "no credential in /metrics")

    # Upstream down: a Clarifai-shaped 502, and the proxy stays up.
    stand_in.stop()
    status, _, answer = raw("POST", base + "/v2/users/u/apps/a/models/m/outputs", body, headers)
    check(status == 502 and json.loads(answer)["status"]["code"] == 10020, "upstream down: 502 with a Clarifai status (%s %s)" % (status, answer[:200]))
    status, _, answer = raw("POST", base + "/v2/users/u/apps/a/models/m/outputs", body, headers)
    check(status == 502, "upstream down, again: 502")
    check(raw("GET", base + "/healthz")[0] == 200, "the proxy stays up")


if __name__ == "__main__":
    main()
    print("proxy end-to-end: all checks passed")
