# SPDX-License-Identifier: MIT
"""Responsiveness: the no-GIL pages answer while the GIL is held in C, a
Python page answers 503 within its deadline instead of hanging, and Python
pages still answer while the main thread runs Python code."""
import json
import os
import subprocess
import sys
import time

import pytest


from pyhost import console
from pyhost.console import _server

from console_helpers import HERE, SLOWDOWN, Client, client_env

CLIENT = os.path.join(HERE, "probe_client.py")


def start_client(client, *args):
    return subprocess.Popen([sys.executable, CLIENT, args[0],
                             str(client.port), client.token,
                             *map(str, args[1:])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=client_env())


def finish(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_nogil_pages_answer_while_c_holds_the_gil(client):
    # The client starts asking 0.5 s from now, while we hold the GIL for
    # 3 s in C; it keeps asking for 2 s, all inside the hold.
    proc = start_client(client, "timeline", 0.5, 2.0)
    t0 = time.monotonic()
    _server._hold_gil(3.0)
    held = time.monotonic() - t0
    res = finish(proc)
    nogil = res["nogil"]
    assert len(nogil) >= 10
    assert all(s == 200 for s, _ in nogil), nogil
    worst = max(secs for _, secs in nogil)
    assert worst < 0.050 * SLOWDOWN, nogil
    status, secs, body = res["python"]
    assert status == 503, res["python"]
    assert "interpreter busy" in body and "GIL was not available" in body
    assert 0.95 <= secs < 1.0 + 0.3 * SLOWDOWN, secs
    assert held >= 3.0
    # The responsiveness page lists the stall once the waiting GIL request
    # got the GIL (right after the hold, as soon as we let go of it).
    deadline = time.monotonic() + 5
    while True:
        r = client.json("/api/responsiveness")
        if r["stalls_total"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r["stalls_total"] >= 1
    assert max(s["wait_ms"] for s in r["stalls"]) >= 2000
    assert r["answered_503"] >= 1
    assert r["max_wait_ms"] >= 2000
    html = client.get("/responsiveness").text
    assert "Stalls, newest first" in html


def test_responsiveness_page_reports_a_stall_in_progress(client):
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import http.client, sys, time, json\n"
         "time.sleep(%f)\n"
         "c = http.client.HTTPConnection('127.0.0.1', %d, timeout=10)\n"
         "c.request('GET', '/api/responsiveness', headers={'Cookie': "
         "'pyhost_console=%s'})\n"
         "print(c.getresponse().read().decode())\n"
         % (0.8, client.port, client.token)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=client_env())
    _server._hold_gil(1.5)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    r = json.loads(out)
    # The idle probe has been waiting for the GIL since the hold began.
    assert r["gil_waiting_ms"] >= 400, r
    assert r["gil_waiting_for"] in ("probe", "page")


@pytest.fixture
def patient_client():
    # Here the worker shares the GIL with a CPU-bound main thread (a 5 ms
    # switch interval each way), so a page runs at a fraction of its speed:
    # what this test checks is that pages answer, not the 1 s default
    # deadline, whose 503 has its own test below.
    url = console.start(sample_interval=0, deadline=3.0)
    try:
        yield Client(url)
    finally:
        console.stop()


def test_python_pages_answer_while_main_thread_runs_python(patient_client):
    client = patient_client
    proc = start_client(client, "timeline", 0.3, 1.5)
    end = time.monotonic() + 2.5
    n = 0
    while time.monotonic() < end or proc.poll() is None:
        n += sum(i * i for i in range(1000))   # pure-Python CPU work
        if time.monotonic() > end + 60:
            break
    res = finish(proc)
    status, secs, body = res["python"]
    assert status == 200, res["python"]
    assert secs < 0.5 * SLOWDOWN
    assert all(s == 200 for s, _ in res["nogil"])
    # And a series of Python pages, one after another, all answer.
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import http.client, time, json\n"
         "c = http.client.HTTPConnection('127.0.0.1', %d, timeout=10)\n"
         "out = []\n"
         "for p in ['/api/gc', '/api/modules', '/api/threads', '/api/']:\n"
         "    t = time.monotonic()\n"
         "    c.request('GET', p, headers={'Cookie': 'pyhost_console=%s'})\n"
         "    r = c.getresponse(); r.read()\n"
         "    out.append([r.status, time.monotonic() - t])\n"
         "print(json.dumps(out))\n" % (client.port, client.token)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=client_env())
    end = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < end:
        n += sum(i * i for i in range(1000))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    for status, secs in json.loads(out):
        assert status == 200
        assert secs < 3.0


def test_a_slow_page_answers_503_and_the_console_recovers(client):
    """A page whose work outlives the deadline (a __repr__ that sleeps in C,
    which no time budget can interrupt) gets 503 'page too slow'; once it
    ends, pages answer again."""
    class Sleepy:
        def __repr__(self):
            time.sleep(1.5)
            return "slept"

    s = Sleepy()
    path = console.object_url(s)
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import http.client, time, json\n"
         "c = http.client.HTTPConnection('127.0.0.1', %d, timeout=10)\n"
         "t = time.monotonic()\n"
         "c.request('GET', '%s', headers={'Cookie': 'pyhost_console=%s'})\n"
         "r = c.getresponse(); b = r.read().decode()\n"
         "print(json.dumps([r.status, time.monotonic() - t, b]))\n"
         % (client.port, path, client.token)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=client_env())
    out, err = proc.communicate(timeout=60)   # our GIL is free meanwhile
    status, secs, body = json.loads(out)
    assert status == 503 and "page too slow" in body
    assert secs < 1.0 + 0.3 * SLOWDOWN
    time.sleep(1.0)
    assert client.get("/api/gc").status == 200


def test_admission_control_refuses_past_sixteen_waiting_pages():
    # While C holds the GIL, 24 Python pages arrive at once: 16 wait in
    # the queue (plus the one the worker may have taken, if it was not
    # itself waiting for the GIL in an idle probe), and the rest are
    # refused at once with 503 instead of piling up.  Once the GIL is free
    # the waiting ones are answered (the deadline is long enough that none
    # expires).
    client = Client(console.start(sample_interval=0, deadline=30))
    try:
        proc = subprocess.Popen([sys.executable, CLIENT, "burst",
                                 str(client.port), client.token, "24"],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env=client_env())
        _server._hold_gil(3.0 * SLOWDOWN)
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
