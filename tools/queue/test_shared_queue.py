"""Several `rulec serve` processes on one PostgreSQL queue, against a real server that `.ci/run`
starts (tools/queue/postgres.sh): RULEC_PG_DIR and RULEC_PG_PORT name it, RULEC the binary.

- Three processes ingest one recording through a round-robin client while processes are killed with
  `kill -9` ten times and started again: the destination ends with exactly the inputs `rulec run`
  accepts from the same recording, each kept once, and the queue empties.
- A process whose PostgreSQL goes away answers 503 (with Retry-After) to ingest, and takes events
  again once it is back, without a restart.
- Two processes share the destination's rate limit: together at most 15 requests a second.
"""
import os
import random
import subprocess
import tempfile
import threading
import time

import pytest

import shared_queue as q

BINARY = os.environ.get("RULEC", os.path.join(q.ROOT, ".build", "debug", "rulec"))
PG_DIR = os.environ.get("RULEC_PG_DIR")
PG_PORT = int(os.environ.get("RULEC_PG_PORT", "0"))
RULES = os.path.join(q.ROOT, "rules", "bench", "R2.rule")

pytestmark = pytest.mark.skipif(not PG_DIR, reason="no PostgreSQL server (RULEC_PG_DIR, RULEC_PG_PORT)")


def queue_url(database):
    return "postgres://postgres@127.0.0.1:%d/%s" % (PG_PORT, database)


def postgres(command):
    args = [os.path.join(q.HERE, "postgres.sh"), command, PG_DIR] + ([str(PG_PORT)] if command == "start" else [])
    subprocess.run(args, check=True, capture_output=True)


def wait_for(condition, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("not within %d s: %s" % (seconds, what))


def test_three_processes_ten_kills_every_input_once():
    work = tempfile.mkdtemp(prefix="rulec-shared-")
    events = q.recording(work, 20000, 11)
    expected = q.expected_ids(BINARY, RULES, events, work)
    assert len(expected) > 5000
    database = q.fresh_database(PG_PORT)
    destination = q.Destination(delay=0.01)
    ports = q.free_ports(3)
    log = os.path.join(work, "serve.log")
    processes = [q.Serve(BINARY, RULES, queue_url(database), port, "http://127.0.0.1:%d" % destination.port, lease=3, log=log).start()
                 for port in ports]
    rng = random.Random(20261207)
    kills = []
    stop = threading.Event()

    def killer():
        # Ten kills at random moments while the client sends and the forwarders deliver; the victim
        # starts again at once, on its port.
        for moment in q.random_moments(10, 12, rng):
            while time.time() - started < moment:
                if stop.is_set():
                    return
                time.sleep(0.01)
            victim = rng.randrange(3)
            processes[victim].kill9()
            kills.append((round(time.time() - started, 2), victim, len(destination.ids())))
            processes[victim].start()

    started = time.time()
    thread = threading.Thread(target=killer)
    thread.start()
    try:
        retried = q.send_round_robin(ports, q.batches_of(events, 100), pause=0.03)
        thread.join()
        assert len(kills) == 10, kills
        wait_for(lambda: destination.ids() >= expected, 180, "every accepted input delivered")
        wait_for(lambda: q.psql(PG_PORT, "SELECT count(*) FROM rulec_items", database) == "0", 60, "the queue empty")
    finally:
        stop.set()
        thread.join()
        for p in processes:
            p.stop()
    delivered = destination.ids()
    assert delivered == expected, "missing %d, unexpected %d" % (len(expected - delivered), len(delivered - expected))
    # Kept once each: a second post of an id (a lease that ended under a killed process) was
    # answered as a duplicate, and counted delivered.
    assert all(count >= 1 for count in destination.kept.values())
    assert not destination.malformed, destination.malformed[:3]
    assert q.psql(PG_PORT, "SELECT count(*) FROM rulec_dead_letters", database) == "0"
    assert q.psql(PG_PORT, "SELECT count(*) FROM rulec_delivered", database) == str(len(expected))
    reposted = sum(count - 1 for count in destination.kept.values())
    print("kills (s, process, delivered so far):", kills)
    print("batches sent again:", retried, "inputs posted again after a kill:", reposted)


def test_a_lost_database_answers_503_and_recovers():
    work = tempfile.mkdtemp(prefix="rulec-shared-")
    events = q.recording(work, 2000, 12)
    batches = q.batches_of(events, 100)
    database = q.fresh_database(PG_PORT)
    destination = q.Destination()
    serve = q.Serve(BINARY, RULES, queue_url(database), q.free_ports(1)[0], "http://127.0.0.1:%d" % destination.port,
                    log=os.path.join(work, "serve.log")).start()
    try:
        assert q.post(serve.port, batches[0])[0] == 202
        postgres("stop")
        try:
            started = time.time()
            status, answer = q.post(serve.port, batches[1])
            assert status == 503 and answer == {"error": "the queue could not be written"}, (status, answer)
            assert time.time() - started < 15
            assert serve.process.poll() is None  # still serving
        finally:
            postgres("start")
        # Back without a restart: the next requests are queued again.
        deadline = time.time() + 60
        while q.post(serve.port, batches[1])[0] != 202:
            assert time.time() < deadline, "the process did not recover"
            time.sleep(0.5)
        for body in batches[2:]:
            assert q.post(serve.port, body)[0] == 202
        expected = q.expected_ids(BINARY, RULES, events, work)
        wait_for(lambda: destination.ids() >= expected, 120, "every accepted input delivered after the outage")
        assert destination.ids() == expected
    finally:
        serve.stop()


def test_the_rate_limit_is_shared_by_processes():
    work = tempfile.mkdtemp(prefix="rulec-shared-")
    events = q.recording(work, 20000, 13)
    database = q.fresh_database(PG_PORT)
    destination = q.Destination()
    ports = q.free_ports(2)
    processes = [q.Serve(BINARY, RULES, queue_url(database), port, "http://127.0.0.1:%d" % destination.port,
                         log=os.path.join(work, "serve.log")) for port in ports]
    try:
        # Everything queued first, through one process; then both forward it at once. Batches of one
        # request each make the requests many.
        processes[0].start()
        q.send_round_robin(ports[:1], q.batches_of(events, 20))
        processes[1].start()
        expected = q.expected_ids(BINARY, RULES, events, work)
        wait_for(lambda: destination.ids() >= expected, 180, "every accepted input delivered")
    finally:
        for p in processes:
            p.stop()
    times = sorted(destination.times)
    assert destination.requests >= 40
    # In any window of 2 s, at most 2 × 15 requests (+1 for the window's edge) from both processes.
    worst = max(sum(1 for t in times[i:] if t - times[i] < 2.0) for i in range(len(times)))
    assert worst <= 31, "%d requests in 2 s" % worst
