# SPDX-License-Identifier: MIT
"""Regression tests from the console's review, one per finding: an open
redirect, JSON that left & raw, objects whose __class__ or module origin
raise, expired handles that kept their objects alive, a handle table shared
across threads without a lock, stop() from the console's own thread, big
container subclasses formatted in full, limits past int64 nanoseconds,
subinterpreters, and stop() racing with requests in flight (a race no test
can force; this one exercises the path)."""
import collections
import gc
import os
import subprocess
import sys
import textwrap
import threading
import types
import weakref

import pytest

from pyhost import console
from pyhost.console.pages import handles


def test_token_redirect_never_leaves_the_console(client):
    # "//evil.example/x" as a Location is a protocol-relative link to
    # another site: the token trade must send the browser to "/" instead.
    for path in ("//evil.example/x", "//evil.example", "///evil.example"):
        r = client.get(f"{path}?token={client.token}", token=False)
        assert r.status == 303, path
        assert r.headers["location"] == "/", (path, r.headers["location"])


def test_json_escapes_ampersand_like_lt_and_gt(client):
    # The C pages' JSON escapes < > & (as the Python pages' JSON does), so
    # an OS thread name cannot put markup into /api/process.
    name = "a&b<c>d"
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        with open(f"/proc/self/task/{t.native_id}/comm", "w") as f:
            f.write(name)
        r = client.get("/api/process")
        assert r.status == 200
        assert b"&" not in r.body and b"<" not in r.body
        names = [x["name"] for x in r.json()["thread_list"]]
        assert name in names
    finally:
        stop.set()
        t.join()


class ClassRaises:
    """An object whose __class__ is computed, and raises."""

    @property
    def __class__(self):
        raise RuntimeError("no class for you")

    def __repr__(self):
        return "ClassRaises-own-repr"


def test_a_raising___class___does_not_break_reprs_or_pages(client):
    pytest.importorskip("greenlet", reason="the tasklet scan needs greenlet")
    victim = ClassRaises()
    assert console.safe_repr(victim) == "ClassRaises-own-repr"
    # The Threads page scans every object for tasklets: one such object on
    # the heap must not turn it into a 500.
    r = client.get("/api/threads")
    assert r.status == 200, r.text
    assert r.json()["tasklets"]["available"]
    del victim


class StrRaises:
    def __str__(self):
        raise RuntimeError("no str")

    def __repr__(self):
        return "StrRaises-origin"


def test_a_module_with_a_hostile_origin_does_not_break_modules(client):
    mod = types.ModuleType("pyhost_console_hostile_origin")
    mod.__spec__ = types.SimpleNamespace(origin=StrRaises())
    sys.modules[mod.__name__] = mod
    try:
        d = client.json("/api/modules?per=500&sort=name")
        pages = d["pages"]
        rows = d["rows"]
        for page in range(2, pages + 1):
            rows += client.json(f"/api/modules?per=500&sort=name&page={page}")[
                "rows"]
        row = next(r for r in rows if r["name"] == mod.__name__)
        assert row["origin"] == "StrRaises-origin"
    finally:
        del sys.modules[mod.__name__]


class Payload:
    pass


def test_expired_strong_handles_let_their_objects_go(client, monkeypatch):
    # A dict cannot be weakly referenced: its handle holds it, but only
    # for STRONG_TTL.  After that the console must let it go (a console
    # that keeps objects alive hides the leaks it is there to show).
    monkeypatch.setattr(handles, "STRONG_TTL", 0.05)
    monkeypatch.setattr(handles, "SWEEP_INTERVAL", 0.0, raising=False)
    payload = Payload()
    alive = weakref.ref(payload)
    held = {"payload": payload}
    path = console.object_url(held)
    del held, payload
    gc.collect()
    assert alive() is not None   # kept by its handle, as documented
    threading.Event().wait(0.1)
    console.object_url(object())  # any later use of the table sweeps it
    gc.collect()
    assert alive() is None
    r = client.get(path)
    assert r.status == 410 and "handle expired" in r.text


def test_stop_while_python_pages_are_in_flight():
    """stop() while clients keep asking for Python pages, some queued and
    one running while the application holds the GIL: every request gets an
    answer or a closed connection, and the process neither aborts nor
    hangs (libmicrohttpd aborts if it stops with a suspended connection)."""
    code = textwrap.dedent("""
        import http.client, threading
        from pyhost import console
        from pyhost.console import _server
        bad = []
        for cycle in range(15):
            url = console.start(sample_interval=0, deadline=0.5)
            port = int(url.split(":")[2].split("/")[0])
            tok = url.split("token=")[1]
            done = threading.Event()
            def ask():
                while not done.is_set():
                    c = http.client.HTTPConnection("127.0.0.1", port,
                                                   timeout=10)
                    try:
                        c.request("GET", "/api/gc",
                                  headers={"Cookie": "pyhost_console=" + tok})
                        st = c.getresponse().status
                        if st not in (200, 503):
                            bad.append(st)
                    except OSError:
                        pass   # refused or closed once the console stops
                    finally:
                        c.close()
            ts = [threading.Thread(target=ask) for _ in range(6)]
            for t in ts:
                t.start()
            _server._hold_gil(0.05)
            console.stop()
            done.set()
            for t in ts:
                t.join()
        print("ok", bad)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=120, env=dict(
                             os.environ, PYTHONFAULTHANDLER="1"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok []", out.stdout


class StopsTheConsole:
    """Its repr, run by the console's own thread, tries to stop it."""

    seen = []

    def __repr__(self):
        try:
            console.stop()
        except RuntimeError as e:
            self.seen.append(str(e))
            raise
        self.seen.append("stopped")
        return "stopped"


def test_stop_from_the_consoles_own_thread_is_refused(client):
    # Before the fix, the worker joined itself and freed the server it was
    # running on (a use-after-free) or deadlocked on stop()'s lock.
    obj = StopsTheConsole()
    r = client.get(console.object_url(obj))
    assert r.status == 200
    assert "repr raised RuntimeError" in r.text
    assert StopsTheConsole.seen and "own thread" in StopsTheConsole.seen[0]
    assert console.url() is not None
    assert client.get("/api/gc").status == 200


def test_subinterpreters_are_refused():
    # The worker takes the GIL with PyGILState_*, which names the main
    # interpreter: in a subinterpreter the pages would run in the wrong one.
    pytest.importorskip("_testcapi", reason="needs _testcapi")
    code = textwrap.dedent("""
        import _testcapi
        ret = _testcapi.run_in_subinterp("import pyhost.console._server")
        print("ret", ret)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "ret -1", out.stdout + out.stderr
    assert "main interpreter only" in out.stderr


class LoudDict(dict):
    """A dict subclass whose own methods must not run for a big one."""

    def __repr__(self):
        raise AssertionError("the full repr ran")

    def __len__(self):
        raise AssertionError("the overridden __len__ ran")

    def items(self):
        raise AssertionError("the overridden items() ran")


def test_big_builtin_container_subclasses_are_summarized():
    # Their own __repr__ runs in C over every item, where no time budget
    # reaches: a deque or OrderedDict of a million items was formatted in
    # full (megabytes, seconds) and then cut.
    r = console.safe_repr(collections.deque(range(1_000_000)))
    assert r.startswith("collections.deque([0, 1, 2")
    assert "1000000 items" in r
    od = collections.OrderedDict((i, str(i)) for i in range(100_000))
    assert "100000 items" in console.safe_repr(od)
    r = console.safe_repr(LoudDict((i, i) for i in range(100)))
    assert "100 items" in r and "AssertionError" not in r
    # Small ones keep their own repr.
    point = collections.namedtuple("Point", "x y")
    assert console.safe_repr(point(1, 2)) == "Point(x=1, y=2)"
    assert console.safe_repr(frozenset([1])) == "frozenset({1})"


def test_object_url_from_many_threads_while_pages_render(client, monkeypatch):
    # The handle table is shared by the console's worker and every thread
    # that calls object_url(): without its lock, a thread switch inside a
    # scan of the table raised KeyError or "dictionary changed size".
    monkeypatch.setattr(handles, "SWEEP_INTERVAL", 0.0, raising=False)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    errors = []

    def make_handles():
        keep = []
        try:
            for i in range(2000):
                keep.append({"i": i})   # not weakrefable: a strong entry
                console.object_url(keep[-1])
        except Exception as e:   # noqa: BLE001 (any error is the finding)
            errors.append(repr(e))

    try:
        threads = [threading.Thread(target=make_handles) for _ in range(4)]
        for t in threads:
            t.start()
        for _ in range(5):
            assert client.get("/api/memory").status == 200
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert client.json("/api/")["console"]["handles"] <= handles.HANDLES_MAX
