# SPDX-License-Identifier: MIT
"""pyhost.select: readiness of a reset socket is readiness, not failure;
the count comes from the returned set; only a closed fd is an error."""
import errno
import select as stdselect
import socket as stdsocket
import struct
import time

import pytest

import pyhost
import pyhost.select as pselect
import pyhost.socket as psocket
from pyhost.tasklets import _hub

from testenv import scaled


def _reset_pair():
    srv = psocket.create_server(("127.0.0.1", 0))
    c = psocket.create_connection(srv.getsockname())
    peer, _ = srv.accept()
    srv.close()
    peer.setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    peer.close()  # RST
    time.sleep(0.01)
    return c


def test_select_reports_reset_socket_as_ready(backend):
    c = _reset_pair()
    quiet_a, quiet_b = psocket.socketpair()
    with c, quiet_a, quiet_b:
        r, w, x = pselect.select([c, quiet_a], [c], [], 1)
        assert r == [c] and w == [c] and x == []
        assert len(r) + len(w) + len(x) == 2


def test_poll_reports_reset_socket_and_closed_fd(backend):
    c = _reset_pair()
    p = pselect.poll()
    closed = psocket.socket()
    closed_fd = closed.fileno()
    p.register(c, pselect.POLLIN)
    p.register(closed_fd, pselect.POLLIN)
    closed.close()
    cfd = c.fileno()
    with c:
        ready = dict(p.poll(1000))
    assert ready[cfd] & pselect.POLLIN
    assert ready[cfd] & (pselect.POLLERR | pselect.POLLHUP)
    assert ready[closed_fd] == pselect.POLLNVAL


def test_select_on_closed_fd_raises_ebadf(backend):
    s = psocket.socket()
    fd = s.fileno()
    s.close()
    with pytest.raises(OSError) as info:
        pselect.select([fd], [], [], 0.1)
    assert info.value.errno == errno.EBADF


def test_select_waits_while_other_tasklets_run(backend):
    """select waits cooperatively: other tasklets run meanwhile, and it
    returns the socket as soon as one of them makes it readable, long
    before its own timeout."""
    a, b = psocket.socketpair()
    ticks = []

    def writer():
        for _ in range(3):
            ticks.append(1)
            pyhost.sleep(0.01)
        b.send(b"x")

    with a, b:
        pyhost.spawn(writer)
        # The timeout is only a safety net: readiness, not the timeout,
        # ends this select (a timeout would return empty lists).
        r, w, x = pselect.select([a], [], [], scaled(30))
        assert r == [a] and len(ticks) == 3
        p = pselect.poll()
        p.register(a.fileno(), pselect.POLLIN)
        assert p.poll(0) == [(a.fileno(), pselect.POLLIN)]


def test_select_and_poll_timeouts(backend):
    a, b = psocket.socketpair()
    with a, b:
        t0 = time.monotonic()
        assert pselect.select([a], [], [], 0.03) == ([], [], [])
        assert time.monotonic() - t0 >= 0.025
        p = pselect.poll()
        p.register(a, pselect.POLLIN)
        t0 = time.monotonic()
        assert p.poll(30) == []
        assert time.monotonic() - t0 >= 0.025
        assert pselect.select([], [], [], 0.01) == ([], [], [])


@pytest.mark.parametrize("bad", [-1, float("nan"), "1"])
def test_select_bad_timeout_raises_like_stdlib(bad):
    with pytest.raises(Exception) as ours:
        pselect.select([], [], [], bad)
    with pytest.raises(Exception) as theirs:
        stdselect.select([], [], [], bad)
    assert ours.type is theirs.type
    assert str(ours.value) == str(theirs.value)


def test_poll_bad_input(backend):
    p = pselect.poll()
    with pytest.raises(KeyError):
        p.unregister(12345)
    with pytest.raises(OSError):
        p.modify(12345, pselect.POLLIN)
    with pytest.raises(TypeError):
        p.poll("soon")
    with pytest.raises(ValueError):
        p.register(-1)


def test_wait_fds_rejects_bad_pairs_with_type_error(backend):
    """The hub's wait_fds (under select and poll) rejects a pair that is not
    an (fd, events) tuple of ints with TypeError, and the waits it started
    before the bad pair have ended when it returns."""
    hub = _hub.get_hub()
    a, b = psocket.socketpair()
    with a, b:
        for pairs in ([[a.fileno(), _hub.POLLIN]],
                      [(a.fileno(), _hub.POLLIN), 7],
                      [(a.fileno(), "x")]):
            with pytest.raises(TypeError):
                hub.wait_fds(pairs, 1.0)
            assert hub.pending == 0
