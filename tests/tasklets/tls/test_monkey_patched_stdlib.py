# SPDX-License-Identifier: MIT
"""pyhost.monkey: unmodified stdlib clients and servers on tasklets.

patch_all() changes the stdlib for the whole process, so each case runs in
a fresh interpreter (the script below), on both hub backends."""
import os
import subprocess
import sys
import textwrap

import pytest

from testenv import scaled

# Every script starts like a user's program: patch first, then import.
PRELUDE = """
import pyhost.monkey
pyhost.monkey.patch_all()
import pyhost, pyhost.socket, pyhost.select, pyhost.ssl, pyhost.tasklets
import socket, select, selectors, ssl, threading, time
assert pyhost.tasklets.hub_backend() == BACKEND, pyhost.tasklets.hub_backend()

class Ticker:
    # Counts while the others wait: proof that nothing blocked the hub.
    def __init__(self):
        self.ticks, self.running = 0, True
        self.tasklet = pyhost.spawn(self.run)
    def run(self):
        while self.running:
            self.ticks += 1
            pyhost.sleep(0.002)
    def stop(self):
        self.running = False
        self.tasklet.join()
        assert self.ticks > 0
"""


@pytest.fixture(params=["uring", "epoll"])
def run_script(request):
    """Run a script (PRELUDE + body) in a fresh interpreter on one backend;
    return its stdout.  The script fails the test by raising."""
    backend = request.param

    def run(body, timeout=60, **fmt):
        code = PRELUDE.replace("BACKEND", repr(backend)) + \
            textwrap.dedent(body).format(**fmt)
        env = dict(os.environ, PYHOST_HUB_BACKEND=backend)
        proc = subprocess.run([sys.executable, "-c", code], env=env,
                              capture_output=True, text=True,
                              timeout=scaled(timeout))
        if "io_uring" in proc.stderr and backend == "uring" and \
                proc.returncode != 0 and "cannot be set up" in proc.stderr:
            pytest.skip("io_uring cannot be set up here")
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    return run


def test_patch_all_replaces_and_remembers(run_script):
    out = run_script("""
    import _socket, importlib
    import pyhost.monkey as m
    assert socket.socket is pyhost.socket.socket
    assert socket.create_connection.__module__ == "socket"  # built on
    assert socket.gethostbyname is pyhost.socket.gethostbyname
    (family, kind, _, _, addr), = socket.getaddrinfo(
        "127.0.0.1", 80, socket.AF_INET, socket.SOCK_STREAM)
    assert family is socket.AF_INET and kind is socket.SOCK_STREAM
    assert addr == ("127.0.0.1", 80)
    assert socket.SocketType is _socket.socket   # stays the C type
    assert select.select is pyhost.select.select
    assert select.poll is pyhost.select.poll
    assert not hasattr(select, "epoll")
    assert not hasattr(selectors, "EpollSelector")
    assert selectors.DefaultSelector is selectors.PollSelector
    assert ssl.SSLContext.sslsocket_class is pyhost.ssl.SSLSocket
    assert ssl.SSLSocket is pyhost.ssl.SSLSocket
    assert time.sleep is pyhost.sleep
    assert threading.Lock is m.CooperativeLock
    for what in ("socket", "select", "selectors", "ssl", "time", "thread"):
        assert m.is_patched(what), what
    assert m.get_original("socket", "socket").__module__ == "socket"
    assert m.get_original("select", "epoll").__name__ == "epoll"
    assert m.get_original("time", "sleep").__module__ == "time"
    assert m.get_original("os", "getpid") is importlib.import_module(
        "os").getpid                                  # never patched
    try:
        m.get_original("os", "no_such_name")
    except AttributeError:
        pass
    else:
        raise AssertionError("get_original of a missing name")
    before = socket.socket
    m.patch_all()                                      # idempotent
    assert socket.socket is before
    assert m.get_original("socket", "socket") is not before
    print("ok")
    """)
    assert out.strip() == "ok"


def test_sleep_and_selectors_are_cooperative(run_script):
    """time.sleep and the default selector let the other tasklets run:
    five sleepers all start before any of them wakes, and a ticker keeps
    ticking while a selector waits."""
    out = run_script("""
    log = []
    def sleeper():
        log.append("start")
        time.sleep(0.3)
        log.append("wake")
    sleepers = [pyhost.spawn(sleeper) for _ in range(5)]
    for t in sleepers:
        assert t.join(60)
    # Serial sleeping would wake the first before the second started.
    assert log == ["start"] * 5 + ["wake"] * 5, log

    a, b = socket.socketpair()
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ)
    ticker = Ticker()
    pyhost.spawn(lambda: (time.sleep(0.1), b.send(b"x")))
    events = sel.select(5)
    assert [key.fileobj for key, _ in events] == [a]
    ticker.stop()
    sel.close(); a.close(); b.close()
    print("ok")
    """)
    assert out.strip() == "ok"


def test_socketserver_and_urllib(run_script):
    out = run_script("""
    import http.server, socketserver, urllib.request, urllib.error

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = ("hello " + self.path).encode() * 1000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    serving = pyhost.spawn(server.serve_forever, 0.05)
    ticker = Ticker()
    url = "http://127.0.0.1:%d" % server.server_address[1]
    for path in ("/a", "/b"):
        with urllib.request.urlopen(url + path, timeout=10) as resp:
            assert resp.read() == ("hello " + path).encode() * 1000
    # shutdown() waits on a threading.Event that serve_forever sets:
    # cooperative locks let the serving tasklet run meanwhile.
    server.shutdown()
    server.server_close()
    assert serving.join(5)
    ticker.stop()
    try:
        urllib.request.urlopen(url + "/gone", timeout=5)
    except urllib.error.URLError as e:
        assert isinstance(e.reason, ConnectionRefusedError), e
    else:
        raise AssertionError("server still answers")
    print("ok")
    """)
    assert out.strip() == "ok"


def test_threading_server_with_real_threads(run_script):
    out = run_script("""
    import socketserver

    class Echo(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(line.upper())

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    pyhost.spawn(server.serve_forever, 0.05)

    def client(i):
        with socket.create_connection(server.server_address, timeout=10) \\
                as c, c.makefile("rwb") as f:
            for j in range(20):
                f.write(b"line %d %d\\n" % (i, j)); f.flush()
                assert f.readline() == b"LINE %d %d\\n" % (i, j)

    clients = [pyhost.spawn(client, i) for i in range(10)]
    for t in clients:
        assert t.join(20) and t.exception is None
    server.shutdown()
    server.server_close()
    print("ok")
    """)
    assert out.strip() == "ok"


def test_https_urllib_under_patch(run_script, tls_files):
    out = run_script("""
    import http.server, urllib.request

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"secret " * 5000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass

    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain({cert!r}, {key!r})
    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    server.socket = sctx.wrap_socket(server.socket, server_side=True)
    assert isinstance(server.socket, pyhost.ssl.SSLSocket)
    pyhost.spawn(server.serve_forever, 0.05)
    ticker = Ticker()
    cctx = ssl.create_default_context(cafile={cert!r})
    url = "https://localhost:%d/" % server.server_address[1]
    with urllib.request.urlopen(url, context=cctx, timeout=10) as resp:
        assert isinstance(resp.fp.raw._sock, pyhost.ssl.SSLSocket)
        assert resp.read() == b"secret " * 5000
    server.shutdown()
    server.server_close()
    ticker.stop()
    print("ok")
    """, cert=tls_files["cert"], key=tls_files["key"])
    assert out.strip() == "ok"


def test_cooperative_locks(run_script):
    out = run_script("""
    from pyhost.monkey import CooperativeLock

    # A tasklet waits on an Event another tasklet sets.
    ev = threading.Event()
    pyhost.spawn(lambda: (time.sleep(0.05), ev.set()))
    assert ev.wait(5)

    # A tasklet waits on an Event an OS thread sets (hub keeps running).
    ev2 = threading.Event()
    th = threading.Thread(target=lambda: (time.sleep(0.1), ev2.set()))
    ticker = Ticker()
    th.start()
    assert ev2.wait(5)
    th.join()
    ticker.stop()

    # Timeouts and bad input, as threading.Lock has them.
    lock = threading.Lock()
    assert lock.acquire()
    start = time.monotonic()
    assert lock.acquire(timeout=0.1) is False   # it timed out ...
    assert time.monotonic() - start >= 0.09     # ... and not early
    assert lock.acquire(False) is False
    for bad in (dict(blocking=False, timeout=1), dict(timeout=-2)):
        try:
            lock.acquire(**bad)
        except ValueError:
            pass
        else:
            raise AssertionError(bad)
    lock.release()
    try:
        lock.release()
    except RuntimeError:
        pass
    else:
        raise AssertionError("release of an unlocked lock")

    # Mutual exclusion between tasklets that sleep inside the lock.
    inside, worst = 0, 0
    def worker():
        global inside, worst
        for _ in range(5):
            with lock:
                inside += 1
                worst = max(worst, inside)
                time.sleep(0.001)
                inside -= 1
    workers = [pyhost.spawn(worker) for _ in range(5)]
    for t in workers:
        assert t.join(10)
    assert worst == 1
    print("ok")
    """)
    assert out.strip() == "ok"
