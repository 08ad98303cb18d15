# SPDX-License-Identifier: MIT
"""pyhost.ssl: TLS over cooperative sockets, on both hub backends.

Servers and clients are tasklets of the test's thread; a ticker tasklet
proves the hub kept running while TLS calls waited."""
import errno
import gc
import http.client
import os
import socket as stdsocket
import ssl

import pytest

import pyhost
import pyhost.socket
import pyhost.ssl

# The backend fixture lets each test's servers finish after its body.
pytestmark = pytest.mark.finish_tasklets


def server_context(tls_files):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls_files["cert"], tls_files["key"])
    return ctx


def client_context(tls_files):
    return pyhost.ssl.create_default_context(cafile=tls_files["cert"])


def tls_listener(tls_files):
    """A listening pyhost TLS socket on 127.0.0.1 (handshake on accept)."""
    lsock = pyhost.socket.create_server(("127.0.0.1", 0))
    return pyhost.ssl.wrap_socket(lsock, server_context(tls_files),
                                  server_side=True)


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class Ticker:
    """A tasklet counting while the others wait: proof nothing blocked."""

    def __init__(self):
        self.ticks = 0
        self.running = True
        self.tasklet = pyhost.spawn(self._run)

    def _run(self):
        while self.running:
            self.ticks += 1
            pyhost.sleep(0.001)

    def stop(self):
        self.running = False
        self.tasklet.join()


def serve_http(lsock, body, requests):
    """Answer REQUESTS keep-alive HTTP/1.1 requests on one connection."""
    conn, _ = lsock.accept()
    with conn, conn.makefile("rb") as rfile:
        for _ in range(requests):
            line = rfile.readline()
            assert line.startswith(b"GET /")
            while rfile.readline() not in (b"\r\n", b""):
                pass
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                         % len(body) + body)


def test_https_connection_on_tasklets(backend, tls_files):
    body = os.urandom(200_000)
    lsock = tls_listener(tls_files)
    port = lsock.getsockname()[1]
    server = pyhost.spawn(serve_http, lsock, body, 2)
    ticker = Ticker()
    conn = http.client.HTTPSConnection("localhost", port, timeout=10,
                                       context=client_context(tls_files))
    for _ in range(2):
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read() == body
    assert isinstance(conn.sock, pyhost.ssl.SSLSocket)
    assert conn.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert conn.sock.getpeercert()["subject"] == ((("commonName",
                                                    "localhost"),),)
    if hasattr(conn.sock, "get_verified_chain"):  # Python 3.13+
        assert len(conn.sock.get_verified_chain()) == 1
    conn.close()
    assert server.join(10)
    assert server.exception is None
    ticker.stop()
    lsock.close()
    assert ticker.ticks > 0


def echo_once(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def test_many_clients_at_once(backend, tls_files):
    lsock = tls_listener(tls_files)
    addr = lsock.getsockname()
    ctx = client_context(tls_files)
    results = {}

    def acceptor(n):
        for _ in range(n):
            conn, _ = lsock.accept()
            pyhost.spawn(echo_once, conn)

    def client(i):
        with ctx.wrap_socket(pyhost.socket.create_connection(addr),
                             server_hostname="localhost") as s:
            payload = bytes([i]) * (1000 * (i + 1))
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                got += s.recv(65536)
            results[i] = got == payload

    pyhost.spawn(acceptor, 20)
    clients = [pyhost.spawn(client, i) for i in range(20)]
    for t in clients:
        assert t.join(20)
        assert t.exception is None
    lsock.close()
    assert results == {i: True for i in range(20)}


def handshake_pair(tls_files, **client_kw):
    """A connected (server TLS socket, client TLS socket) over a socketpair."""
    a, b = pyhost.socket.socketpair()
    box = {}

    def server():
        box["s"] = pyhost.ssl.wrap_socket(a, server_context(tls_files),
                                          server_side=True)

    t = pyhost.spawn(server)
    client_kw.setdefault("server_hostname", "localhost")
    c = client_context(tls_files).wrap_socket(b, **client_kw)
    assert t.join(10)
    return box["s"], c


def test_recv_timeout_keeps_socket_usable(backend, tls_files):
    s, c = handshake_pair(tls_files)
    c.settimeout(0.2)
    with pytest.raises(TimeoutError):
        c.recv(100)
    s.sendall(b"late")
    assert c.recv(100) == b"late"
    s.close()
    c.close()


def test_nonblocking_wants_read(backend, tls_files):
    s, c = handshake_pair(tls_files)
    c.setblocking(False)
    with pytest.raises(ssl.SSLWantReadError):
        c.recv(100)
    s.close()
    c.close()


def test_unwrap_returns_plain_socket(backend, tls_files):
    s, c = handshake_pair(tls_files)
    box = {}

    def server():
        assert s.recv(10) == b"bye"
        plain = s.unwrap()
        box["plain"] = plain.recv(10)
        plain.close()

    t = pyhost.spawn(server)
    c.sendall(b"bye")
    plain = c.unwrap()
    assert type(plain) is pyhost.socket.socket
    plain.sendall(b"clear")
    assert t.join(10)
    assert t.exception is None
    assert box["plain"] == b"clear"
    plain.close()


def test_makefile_lines(backend, tls_files):
    s, c = handshake_pair(tls_files)
    s.sendall(b"one\ntwo\n")
    with c.makefile("rb") as f:
        assert f.readline() == b"one\n"
        assert f.readline() == b"two\n"
    s.close()
    c.close()


def test_ragged_eof(backend, tls_files):
    s, c = handshake_pair(tls_files)
    # The server vanishes without close_notify.
    stdsocket.socket(fileno=s.detach()).close()
    assert c.recv(100) == b""
    c.close()

    s, c = handshake_pair(tls_files, suppress_ragged_eofs=False)
    stdsocket.socket(fileno=s.detach()).close()
    with pytest.raises(ssl.SSLError):
        c.recv(100)
    c.close()


def test_untrusted_certificate_fails_cleanly(backend, tls_files):
    lsock = tls_listener(tls_files)
    addr = lsock.getsockname()
    errors = []

    def server():
        try:
            lsock.accept()
        except (ssl.SSLError, OSError) as e:
            errors.append(e)

    t = pyhost.spawn(server)
    untrusting = pyhost.ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusting.wrap_socket(pyhost.socket.create_connection(addr),
                               server_hostname="localhost")
    assert t.join(10)
    assert errors and isinstance(errors[0], ssl.SSLError)
    lsock.close()


def test_wrong_hostname(backend, tls_files):
    lsock = tls_listener(tls_files)
    addr = lsock.getsockname()
    t = pyhost.spawn(lambda: pytest.raises(OSError, lsock.accept))
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        client_context(tls_files).wrap_socket(
            pyhost.socket.create_connection(addr),
            server_hostname="not-localhost.example")
    assert t.join(10)
    lsock.close()


def test_bad_input(backend, tls_files):
    with pytest.raises(TypeError, match="public constructor"):
        pyhost.ssl.SSLSocket()
    ctx = client_context(tls_files)
    udp = pyhost.socket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    with pytest.raises(NotImplementedError, match="stream"):
        ctx.wrap_socket(udp, server_hostname="localhost")
    udp.close()
    tcp = pyhost.socket.socket()
    with pytest.raises(ValueError, match="check_hostname"):
        ctx.wrap_socket(tcp)
    with pytest.raises(ValueError, match="server_hostname"):
        pyhost.ssl.wrap_socket(tcp, server_context(tls_files),
                               server_side=True, server_hostname="x")
    tcp.close()

    s, c = handshake_pair(tls_files)
    with pytest.raises(ValueError, match="flags"):
        c.recv(10, stdsocket.MSG_PEEK)
    with pytest.raises(ValueError, match="flags"):
        c.send(b"x", stdsocket.MSG_DONTWAIT)
    with pytest.raises(ValueError, match="sendto"):
        c.sendto(b"x", ("127.0.0.1", 9))
    with pytest.raises(NotImplementedError):
        c.recvmsg(10)
    with pytest.raises(NotImplementedError):
        c.sendmsg([b"x"])
    with pytest.raises(NotImplementedError):
        c.dup()
    c.close()
    with pytest.raises(OSError) as info:
        c.recv(10)
    assert info.value.errno == errno.EBADF
    s.close()


def test_no_fd_leak(backend, tls_files):
    # Warm up first: the hub, its worker threads, OpenSSL's caches.
    for sock in handshake_pair(tls_files):
        sock.close()
    before = open_fds()
    for _ in range(30):
        s, c = handshake_pair(tls_files)
        c.sendall(b"x")
        assert s.recv(1) == b"x"
        c.close()
        s.close()
    assert open_fds() == before
    del s, c, sock
    gc.collect()
    assert not [o for o in gc.get_objects()
                if isinstance(o, pyhost.ssl.SSLSocket)]
