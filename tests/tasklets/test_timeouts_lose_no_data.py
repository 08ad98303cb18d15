# SPDX-License-Identifier: MIT
"""Socket timeouts: the operation ends before the exception, the socket
stays usable, and no byte is ever lost to a timeout (storm test)."""
import random
import socket as stdsocket
import threading
import time

import pytest

import pyhost
import pyhost.socket as psocket
from pyhost import tasklets

from testenv import SANITIZED


def test_recv_timeout_then_socket_still_works(backend):
    a, b = psocket.socketpair()
    with a, b:
        a.settimeout(0.05)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match="timed out") as info:
            a.recv(10)
        assert info.type is stdsocket.timeout
        assert time.monotonic() - t0 >= 0.04  # not before the timeout
        # The operation ended before the exception: nothing pending.
        assert tasklets.get_hub().pending == 0
        b.sendall(b"later")
        assert a.recv(10) == b"later"


def test_timeout_zero_is_non_blocking(backend):
    a, b = psocket.socketpair()
    with a, b:
        a.setblocking(False)
        with pytest.raises(BlockingIOError):
            a.recv(1)
        b.send(b"z")
        assert a.recv(1) == b"z"


def test_data_at_the_deadline_comes_out_of_the_next_recv(backend):
    """A sender thread aims each byte at the receiver's deadline: whether
    the recv returns it or times out, the next recv must produce it."""
    a, b = psocket.socketpair()
    stdb = stdsocket.socket(fileno=b.detach())
    rounds = 60
    timeout = 0.01

    def sender():
        for i in range(rounds):
            time.sleep(timeout * random.uniform(0.7, 1.3))
            stdb.send(bytes([i]))

    th = threading.Thread(target=sender)
    th.start()
    got = bytearray()
    timeouts = 0
    a.settimeout(timeout)
    while len(got) < rounds:
        try:
            got += a.recv(1)
        except TimeoutError:
            timeouts += 1
    th.join()
    a.close()
    stdb.close()
    assert bytes(got) == bytes(range(rounds))
    assert timeouts > 0


def test_storm_accounts_for_every_byte(backend):
    """Many tasklets do recvs with random short timeouts against senders
    with random delays; every byte sent is received exactly once."""
    pairs = 20
    per_pair = 50 if SANITIZED else 150
    rng = random.Random(4)
    received = {}
    sent = {}
    recvs = [0]
    timeouts = [0]

    def send_side(i, sock):
        data = bytearray()
        for k in range(per_pair):
            chunk = bytes([i, k % 256]) * rng.randint(1, 200)
            sock.sendall(chunk)
            data += chunk
            pyhost.sleep(rng.uniform(0, 0.004))
        sent[i] = bytes(data)
        sock.shutdown(stdsocket.SHUT_WR)

    def recv_side(i, sock):
        buf = bytearray()
        while True:
            sock.settimeout(rng.uniform(0.0005, 0.004))
            try:
                chunk = sock.recv(rng.randint(1, 300))
            except TimeoutError:
                timeouts[0] += 1
                continue
            recvs[0] += 1
            if not chunk:
                break
            buf += chunk
        received[i] = bytes(buf)

    socks = []
    for i in range(pairs):
        a, b = psocket.socketpair()
        socks += [a, b]
        pyhost.spawn(send_side, i, a)
        pyhost.spawn(recv_side, i, b)
    pyhost.run()
    for s in socks:
        s.close()
    assert sent.keys() == received.keys() == set(range(pairs))
    for i in range(pairs):
        assert received[i] == sent[i], f"pair {i} lost or reordered bytes"
    assert timeouts[0] > 100 and recvs[0] > pairs


def test_exception_during_recv_keeps_the_data(backend):
    """A Timeout (not the socket timeout) interrupting a recv: the op is
    cancelled and waited for; bytes that won the race are kept for the
    next recv."""
    a, b = psocket.socketpair()
    with a, b:
        for _ in range(20):
            with pyhost.Timeout(0.002, False):
                pyhost.spawn(lambda: (pyhost.sleep(0.002), b.send(b"k")))
                data = a.recv(1)
                assert data == b"k"
                continue
            assert tasklets.get_hub().pending == 0
            pyhost.run()
            assert a.recv(1) == b"k"


@pytest.mark.parametrize("bad", [-1, -0.001, float("nan")])
def test_bad_timeouts_raise_like_stdlib(backend, bad):
    s = psocket.socket()
    ref = stdsocket.socket()
    with s, ref:
        with pytest.raises(ValueError) as ours:
            s.settimeout(bad)
        with pytest.raises(ValueError) as theirs:
            ref.settimeout(bad)
        assert str(ours.value) == str(theirs.value)
    with psocket.socket() as s, pytest.raises(TypeError):
        s.settimeout("1")


def test_timeout_attributes_follow_stdlib(backend):
    old = stdsocket.getdefaulttimeout()
    try:
        stdsocket.setdefaulttimeout(2.5)
        s = psocket.socket()
        assert s.gettimeout() == 2.5 and s.timeout == 2.5
        stdsocket.setdefaulttimeout(None)
        s2 = psocket.socket(type=stdsocket.SOCK_STREAM | stdsocket.SOCK_NONBLOCK)
        assert s2.gettimeout() == 0.0 and not s2.getblocking()
        s.setblocking(True)
        assert s.gettimeout() is None and s.getblocking()
        s.settimeout(0)
        assert s.gettimeout() == 0.0
        s.close()
        s2.close()
    finally:
        stdsocket.setdefaulttimeout(old)


def test_accept_and_connect_timeouts(backend):
    srv = psocket.create_server(("127.0.0.1", 0))
    with srv:
        srv.settimeout(0.03)
        with pytest.raises(TimeoutError):
            srv.accept()
        c = psocket.create_connection(srv.getsockname(), timeout=1)
        conn, _ = srv.accept()
        assert conn.gettimeout() is None
        c.close()
        conn.close()


@pytest.mark.parametrize("seconds", [float("inf"), 1e300, 9e9])
def test_very_long_waits_saturate_instead_of_wrapping(backend, seconds):
    """An infinite or huge sleep or socket timeout simply does not fire:
    its deadline (now + seconds in int64 nanoseconds) saturates instead of
    wrapping around into the past."""
    woke = []

    def sleeper():
        pyhost.sleep(seconds)
        woke.append(True)

    t = pyhost.spawn(sleeper)
    assert pyhost.run(timeout=0.05) is False
    assert woke == []
    t.kill()
    a, b = psocket.socketpair()
    with a, b:
        a.settimeout(min(seconds, 9e9))  # the stdlib's own limit is ~9.2e9
        pyhost.spawn(lambda: (pyhost.sleep(0.02), b.send(b"x")))
        assert a.recv(1) == b"x"
    pyhost.run()
