# SPDX-License-Identifier: MIT
"""Close: pending operations are cancelled and finished first, waiters
get a clear error, and the peer sees a FIN (b''), never a reset."""
import errno
import socket as stdsocket
import threading
import time

import pytest

import pyhost
import pyhost.socket as psocket
from pyhost import tasklets

from testenv import scaled


def test_inside_and_outside_timeout(backend):
    """CPython test_socket's NetworkConnectionBehaviourTest with a real
    thread as the server: the client's timed-out recv must not turn its
    close into a reset, so the server's later send succeeds."""
    srv = stdsocket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    server_errors = []
    eofs = []
    client_closed = threading.Event()

    def server():
        for outside in (False, True):
            conn, _ = srv.accept()
            with conn:
                if outside:
                    # Answer only once the client's recv has timed out
                    # and it has closed the socket.
                    client_closed.wait(scaled(10))
                else:
                    time.sleep(0.3)  # the client's recv is waiting
                try:
                    if outside:
                        # The client timed out and closed: a FIN, so
                        # recv sees EOF and the send still succeeds (an
                        # RST would raise ECONNRESET in either).
                        eofs.append(conn.recv(10))
                    conn.send(b"done!")
                    if not outside:
                        eofs.append(conn.recv(10))
                except OSError as exc:
                    server_errors.append(exc)

    th = threading.Thread(target=server)
    th.start()
    # testInsideTimeout: no timeout, the recv gets the data.
    c = psocket.create_connection(("127.0.0.1", port))
    assert c.recv(5) == b"done!"
    c.close()
    # testOutsideTimeout: the recv times out, then the client closes.
    c = psocket.create_connection(("127.0.0.1", port), timeout=0.1)
    with pytest.raises(TimeoutError):
        c.recv(5)
    c.close()
    client_closed.set()
    th.join(scaled(10))
    srv.close()
    assert server_errors == []
    assert eofs == [b"", b""]


def test_close_wakes_the_waiting_tasklet_with_ebadf(backend):
    a, b = psocket.socketpair()
    errors = []

    def reader():
        try:
            a.recv(10)
        except OSError as exc:
            errors.append(exc)

    t = pyhost.spawn(reader)
    pyhost.schedule()
    assert tasklets.get_hub().pending == 1
    a.close()
    t.join(scaled(5))
    assert len(errors) == 1
    assert errors[0].errno == errno.EBADF
    assert "closed in another tasklet" in str(errors[0])
    assert tasklets.get_hub().pending == 0
    b.close()


def test_peer_of_a_graceful_close_reads_eof_not_reset(backend):
    """Close with a recv pending (io_uring: an in-flight RECV) must send
    FIN; the data the peer sends afterwards must not be swallowed."""
    srv = stdsocket.create_server(("127.0.0.1", 0))
    c = psocket.create_connection(srv.getsockname())
    peer, _ = srv.accept()
    with srv, peer:
        t = pyhost.spawn(lambda: pytest.raises(OSError, c.recv, 10))
        pyhost.schedule()
        c.close()
        t.join()
        peer.settimeout(scaled(5))
        assert peer.recv(10) == b""  # FIN, not ECONNRESET
        try:
            peer.send(b"after close")
        except BrokenPipeError:
            pass  # allowed later; what matters is the clean EOF above


def test_operations_on_closed_socket_raise_ebadf(backend):
    s = psocket.socket()
    s.close()
    for call in (lambda: s.recv(1), lambda: s.send(b"x"),
                 lambda: s.sendall(b"x"), lambda: s.recv_into(bytearray(1)),
                 lambda: s.accept(), lambda: s.connect(("127.0.0.1", 1)),
                 lambda: s.recvfrom(1)):
        with pytest.raises(OSError) as info:
            call()
        assert info.value.errno == errno.EBADF
    s.close()  # closing twice is fine, as in the stdlib


def test_close_from_context_manager_and_makefile_refs(backend):
    a, b = psocket.socketpair()
    f = a.makefile("rwb")
    a.close()  # the file still holds the socket open
    b.sendall(b"line\n")
    assert f.readline() == b"line\n"
    f.close()
    assert a.fileno() == -1
    with b:
        pass
    assert b.fileno() == -1
