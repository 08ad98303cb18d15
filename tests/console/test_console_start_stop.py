# SPDX-License-Identifier: MIT
"""pyhost.console's Python API: start, stop, url, object_url, and their bad
inputs; stopping while pages are in flight, from the console's own thread,
at exit and after fork; and where it refuses to run (subinterpreters)."""
import importlib.util
import os
import re
import socket
import subprocess
import sys
import textwrap

import pytest

from pyhost import console
from testenv import scaled

from console_helpers import Client


def test_start_returns_a_loopback_url_with_a_token():
    url = console.start(sample_interval=0)
    try:
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]{48})",
                         url)
        assert m, url
        assert console.url() == url
        assert Client(url).get("/api/gc").status == 200
    finally:
        console.stop()
    assert console.url() is None


def test_tokens_differ_each_start():
    tokens = []
    for _ in range(3):
        tokens.append(console.start(sample_interval=0).split("token=")[1])
        console.stop()
    assert len(set(tokens)) == 3


def test_is_off_unless_started():
    assert console.url() is None
    with pytest.raises(RuntimeError, match="does not run"):
        console.object_url(object())


def test_stop_is_idempotent_and_restart_works():
    console.stop()
    url = console.start(sample_interval=0)
    console.stop()
    console.stop()
    port = int(url.split(":")[2].split("/")[0])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    url = console.start(sample_interval=0)
    try:
        assert Client(url).get("/process").status == 200
    finally:
        console.stop()


def test_double_start_is_refused():
    console.start(sample_interval=0)
    try:
        with pytest.raises(RuntimeError, match="already runs"):
            console.start()
    finally:
        console.stop()


def test_chosen_token_and_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = console.start(port=port, token="my-own-token_0123456789",
                        sample_interval=0)
    try:
        assert url == f"http://127.0.0.1:{port}/?token=my-own-token_0123456789"
        assert Client(url).get("/api/gc").status == 200
    finally:
        console.stop()


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"host": "example.com"}, ValueError, "numeric"),
    ({"host": "300.1.1.1"}, ValueError, "numeric"),
    ({"port": -1}, ValueError, "port"),
    ({"port": 70000}, ValueError, "port"),
    ({"token": "short"}, ValueError, "16 to 128"),
    ({"token": "has spaces and ; semicolons"}, ValueError, "16 to 128"),
    ({"token": "x" * 200}, ValueError, "16 to 128"),
    ({"deadline": 0}, ValueError, "deadline"),
    ({"deadline": float("nan")}, ValueError, "deadline"),
    ({"stall_threshold": -1}, ValueError, "stall_threshold"),
    # Out of int64 nanoseconds: refused, not silently wrapped around.
    ({"stall_threshold": float("inf")}, ValueError, "stall_threshold"),
    ({"stall_threshold": 1e300}, ValueError, "stall_threshold"),
    ({"sample_interval": float("inf")}, ValueError, "sample_interval"),
    ({"sample_interval": float("nan")}, ValueError, "sample_interval"),
    ({"port": "80"}, TypeError, "integer"),
    ({"host": 127}, TypeError, "str"),
])
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        console.start(**kwargs)
    assert console.url() is None


def test_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(OSError, match="cannot listen"):
            console.start(port=s.getsockname()[1])
    assert console.url() is None


def test_ipv6_loopback():
    try:
        url = console.start(host="::1", sample_interval=0)
    except OSError:
        pytest.skip("no IPv6 loopback in this sandbox")
    try:
        assert url.startswith("http://[::1]:")
        port = int(url.split("]:")[1].split("/")[0])
        with socket.create_connection(("::1", port), timeout=5) as s:
            token = url.split("token=")[1]
            s.sendall(f"GET /api/gc HTTP/1.1\r\nHost: [::1]:{port}\r\n"
                      f"Cookie: pyhost_console={token}\r\n"
                      "Connection: close\r\n\r\n".encode())
            assert s.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        console.stop()


def test_stops_cleanly_at_exit_without_stop():
    """A process that starts the console and exits (even while a request
    waits for the GIL) exits 0: the threads end before finalization."""
    code = textwrap.dedent("""
        import http.client, threading, sys
        from pyhost import console
        from pyhost.console import _server
        url = console.start(sample_interval=0.05)
        port = int(url.split(":")[2].split("/")[0])
        tok = url.split("token=")[1]
        def ask():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                c.request("GET", "/gc", headers={"Cookie": "pyhost_console=" + tok})
                c.getresponse().read()
            except Exception:
                pass
        threading.Thread(target=ask, daemon=True).start()
        _server._hold_gil(0.3)
        print("bye")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=scaled(60))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "bye"


@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_does_not_inherit_the_server():
    url = console.start(sample_interval=0)
    try:
        pid = os.fork()
        if pid == 0:   # child: the console is off here, and can restart
            ok = console.url() is None
            try:
                console.start(sample_interval=0)
                console.stop()
            except Exception:
                ok = False
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert Client(url).get("/api/gc").status == 200
    finally:
        console.stop()


def test_start_stop_cycles_leak_nothing():
    """Threads are joined, sockets closed and memory returned by stop():
    counts after several start/stop cycles (with requests) match."""
    import gc

    def counts():
        gc.collect()
        return (len(os.listdir("/proc/self/task")),
                len(os.listdir("/proc/self/fd")), sys.getallocatedblocks())

    def cycle():
        c = Client(console.start(sample_interval=0.01))
        assert c.get("/api/gc").status == 200
        assert c.get("/process").status == 200
        assert c.get("/memory").status == 200
        console.stop()

    for _ in range(3):   # warm-up: imports, caches
        cycle()
    before = counts()
    for _ in range(10):
        cycle()
    after = counts()
    assert after[0] == before[0], "threads left behind"
    assert after[1] == before[1], "fds left behind"
    assert after[2] - before[2] < 300, (before, after)


def test_stop_while_python_pages_are_in_flight():
    """stop() while clients keep asking for Python pages, some queued and
    one running while the application holds the GIL: every request gets an
    answer or a closed connection, and the process neither aborts nor
    hangs (libmicrohttpd aborts if it stops with a suspended connection).
    The race cannot be forced; this exercises the path many times."""
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
                                                   timeout=60)
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
                         text=True, timeout=scaled(120), env=dict(
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
    """stop() called on the console's own thread (from a __repr__ one of its
    pages runs) raises RuntimeError instead of joining itself and freeing
    the server it runs on; the page shows the repr failed and the console
    keeps serving."""
    obj = StopsTheConsole()
    r = client.get(console.object_url(obj))
    assert r.status == 200
    assert "repr raised RuntimeError" in r.text
    assert StopsTheConsole.seen and "own thread" in StopsTheConsole.seen[0]
    assert console.url() is not None
    assert client.get("/api/gc").status == 200


def test_subinterpreters_are_refused():
    """Importing pyhost.console._server in a subinterpreter fails with
    ImportError: its worker takes the GIL with PyGILState_*, which names the
    main interpreter, so pages would run in the wrong one."""
    # find_spec, not an import: _testcapi's types would stay behind in
    # this process.
    if importlib.util.find_spec("_testcapi") is None:
        pytest.skip("needs _testcapi")
    code = textwrap.dedent("""
        import _testcapi
        ret = _testcapi.run_in_subinterp("import pyhost.console._server")
        print("ret", ret)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=scaled(60))
    assert out.stdout.strip() == "ret -1", out.stdout + out.stderr
    assert "main interpreter only" in out.stderr
