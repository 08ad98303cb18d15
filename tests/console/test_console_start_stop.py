# SPDX-License-Identifier: MIT
"""pyhost.console's Python API: start, stop, url, object_url, and their bad
inputs."""
import os
import re
import socket
import subprocess
import sys
import textwrap

import pytest

from pyhost import console

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
                         text=True, timeout=60)
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
