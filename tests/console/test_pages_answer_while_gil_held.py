"""Responsiveness: the no-GIL pages answer while the GIL is held in C, a
Python page answers 503 within its deadline instead of hanging, and Python
pages still answer while the main thread runs Python code.

Nothing here bounds a latency: each test compares when an answer came with
when the GIL was held (the client runs in its own process on the same
CLOCK_MONOTONIC), or checks its status.  The latencies themselves are
measured by bench/console.py."""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from pyhost import console
from pyhost.console import _server
from testenv import scaled

from console_helpers import HERE, Client, client_env

CLIENT = os.path.join(HERE, "probe_client.py")


def start_client(client, *args):
    return subprocess.Popen([sys.executable, CLIENT, args[0],
                             str(client.port), client.token,
                             *map(str, args[1:])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=client_env())


def finish(proc):
    out, err = proc.communicate(timeout=scaled(120))
    assert proc.returncode == 0, err
    return json.loads(out)


@pytest.fixture
def default_client():
    """A console with the default 1 s page deadline, whose 503 these tests
    check."""
    url = console.start(sample_interval=0)
    try:
        yield Client(url)
    finally:
        console.stop()


def hold_gil_while_asking(client, seconds):
    """Hold the GIL in C for `seconds` while the probe client (hold mode)
    asks for pages; return (began, ended, its report), began and ended on
    time.monotonic(), the client's clock too."""
    proc = subprocess.Popen([sys.executable, CLIENT, "hold",
                             str(client.port), client.token],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=client_env())
    try:
        line = proc.stdout.readline()
        assert line == "ready\n", line + proc.stdout.read()
        began = time.monotonic()
        _server._hold_gil(seconds)
        ended = time.monotonic()
        proc.stdin.close()
        out = proc.stdout.read()
        assert proc.wait(timeout=scaled(60)) == 0, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return began, ended, json.loads(out.splitlines()[-1])


def test_nogil_pages_answer_while_c_holds_the_gil(default_client):
    """While C holds the GIL for 3 s: the no-GIL pages answer 200 before
    the hold ends; a Python page asked during the hold gets 503 "interpreter
    busy" at its 1 s deadline, also before the hold ends; afterwards the
    responsiveness page lists the stall."""
    client = default_client
    began, ended, res = hold_gil_while_asking(client, scaled(3.0))
    assert ended - began >= 3.0
    assert all(status == 200 for _, status, *_ in res["nogil"]), res["nogil"]
    during = [(path, sent, answered)
              for path, _, sent, answered, _ in res["nogil"]
              if began < sent and answered < ended]
    assert len(during) >= 5, (began, ended, res["nogil"])
    assert {path for path, _, _ in during} >= {"/api/responsiveness"}
    assert res["python"] is not None, \
        "the client never saw the GIL held: " + repr(res["nogil"][-3:])
    status, sent, answered, body = res["python"]
    assert status == 503, res["python"]
    assert "interpreter busy" in body and "GIL was not available" in body
    assert answered < ended, (answered, ended)   # the hold did not end it
    assert answered - sent >= 0.95               # the deadline, not sooner
    # The responsiveness page lists the stall once the waiting GIL request
    # got the GIL (right after the hold, as soon as we let go of it).
    give_up = time.monotonic() + scaled(30)
    while True:
        r = client.json("/api/responsiveness")
        if r["stalls_total"] >= 1 or time.monotonic() > give_up:
            break
        time.sleep(0.05)
    assert r["stalls_total"] >= 1
    assert max(s["wait_ms"] for s in r["stalls"]) >= 2000
    assert r["answered_503"] >= 1
    assert r["max_wait_ms"] >= 2000
    html = client.get("/responsiveness").text
    assert "Stalls, newest first" in html


def test_responsiveness_page_reports_a_stall_in_progress(client):
    """While C holds the GIL, /api/responsiveness (answered before the hold
    ended) says a GIL request has been waiting, and for what."""
    began, ended, res = hold_gil_while_asking(client, scaled(2.0))
    during = [data for path, _, sent, answered, data in res["nogil"]
              if path == "/api/responsiveness" and began < sent and
              answered < ended]
    waits = [d["gil_waiting_ms"] for d in during]
    assert any(w >= 400 for w in waits), waits
    stalled = next(d for d in during if d["gil_waiting_ms"] >= 400)
    assert stalled["gil_waiting_for"] in ("probe", "page")


def test_python_pages_answer_while_main_thread_runs_python(client):
    """While the main thread runs pure-Python CPU work, a Python page
    answers 200 (the worker gets its share of the GIL), the no-GIL pages
    answer 200, and a series of Python pages, one after another, all
    answer 200.  The worker shares the GIL with a CPU-bound main thread
    (a 5 ms switch interval each way), so a page runs at a fraction of its
    speed: the client fixture's patient deadline leaves the 503 out of it
    (the 503 has its own tests)."""
    proc = start_client(client, "timeline", 0.3, 1.5)
    end = time.monotonic() + 2.5
    n = 0
    while time.monotonic() < end or proc.poll() is None:
        n += sum(i * i for i in range(1000))   # pure-Python CPU work
        if time.monotonic() > end + scaled(60):
            break
    res = finish(proc)
    status, secs, body = res["python"]
    assert status == 200, res["python"]
    assert all(s == 200 for s, _ in res["nogil"])
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import http.client, json\n"
         "c = http.client.HTTPConnection('127.0.0.1', %d, timeout=60)\n"
         "out = []\n"
         "for p in ['/api/gc', '/api/modules', '/api/threads', '/api/']:\n"
         "    c.request('GET', p, headers={'Cookie': 'pyhost_console=%s'})\n"
         "    r = c.getresponse(); r.read()\n"
         "    out.append([p, r.status])\n"
         "print(json.dumps(out))\n" % (client.port, client.token)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=client_env())
    end = time.monotonic() + scaled(60)
    while proc.poll() is None and time.monotonic() < end:
        n += sum(i * i for i in range(1000))
    out, err = proc.communicate(timeout=scaled(60))
    assert proc.returncode == 0, err
    for path, status in json.loads(out):
        assert status == 200, path


class Stuck:
    """Its __repr__ blocks without the GIL (as a C call can: no time budget
    interrupts it) until the test releases it."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()

    def __repr__(self):
        self.entered.set()
        self.release.wait(scaled(60))   # a hang guard only
        return "released"


def test_a_slow_page_answers_503_and_the_console_recovers(default_client):
    """A page whose work outlives the deadline gets 503 'page too slow'
    while that work still runs; once it ends, pages answer again."""
    client = default_client
    stuck = Stuck()
    path = console.object_url(stuck)
    try:
        r = client.get(path)   # our GIL is free meanwhile: we wait in recv
        assert stuck.entered.is_set()
        assert not stuck.release.is_set()   # answered while still stuck
        assert r.status == 503 and "page too slow" in r.text, r.text
    finally:
        stuck.release.set()
    # The worker finishes the abandoned page, then serves again.
    give_up = time.monotonic() + scaled(30)
    while client.get("/api/gc").status != 200:
        assert time.monotonic() < give_up, "the console did not recover"
        time.sleep(0.05)


def test_admission_control_refuses_past_sixteen_waiting_pages():
    """While C holds the GIL, 24 Python pages arrive at once: 16 wait in
    the queue (plus the one the worker may have taken, if it was not itself
    waiting for the GIL in an idle probe), and the rest are refused at once
    with 503 instead of piling up.  Once the GIL is free the waiting ones
    are answered (the deadline is long enough that none expires)."""
    client = Client(console.start(sample_interval=0, deadline=60))
    try:
        proc = start_client(client, "burst", 24)
        # The client sends its burst once it sees the hold begin; the hold
        # lasts long enough for 24 connections to arrive.
        _server._hold_gil(scaled(4.0))
        answers = finish(proc)
        served = client.json("/api/responsiveness")
    finally:
        console.stop()
    busy = [a for a in answers if a[0] == 503]
    ok = [a for a in answers if a[0] == 200]
    assert len(answers) == 24 and len(ok) + len(busy) == 24, answers
    assert len(ok) in (16, 17), answers
    assert all("too many requests are waiting" in a[1] for a in busy)
    assert served["queue_full"] == len(busy)
