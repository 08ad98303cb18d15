# SPDX-License-Identifier: MIT
"""Regression tests for the items of docs/hub-requests.md (the requests of
the ssl/monkey/peer-suite layer): MSG_DONTWAIT never waits, getaddrinfo's
enum members, resolver calls that keep no reference to their arguments,
a signal handler's exception out of a blocked sendall, and the low-level
park/wake/call_later primitive the cooperative lock is built on."""
import errno
import math
import signal
import socket as stdsocket
import sys
import time

import greenlet
import pytest

import pyhost
import pyhost.socket as psocket
from pyhost.tasklets import _hub
from hub_helpers import margin


def _fill(sock):
    """Send until the kernel buffer is full; return the bytes sent."""
    sent = 0
    chunk = b"x" * 65536
    while True:
        try:
            sent += sock.send(chunk, stdsocket.MSG_DONTWAIT)
        except BlockingIOError:
            return sent


# -- item 5: MSG_DONTWAIT ---------------------------------------------------

@pytest.mark.parametrize("timeout", [None, 5.0])
def test_msg_dontwait_never_waits_on_the_c_paths(backend, timeout):
    a, b = psocket.socketpair()
    with a, b:
        a.settimeout(timeout)
        b.settimeout(timeout)
        start = time.monotonic()
        with pytest.raises(BlockingIOError) as info:
            b.recv(10, stdsocket.MSG_DONTWAIT)
        assert info.value.errno == errno.EAGAIN
        with pytest.raises(BlockingIOError):
            b.recv_into(bytearray(10), 10, stdsocket.MSG_DONTWAIT)
        assert _fill(a) > 0
        with pytest.raises(BlockingIOError):
            a.send(b"y" * 65536, stdsocket.MSG_DONTWAIT)
        with pytest.raises(BlockingIOError):
            a.sendall(b"y" * 65536, stdsocket.MSG_DONTWAIT)
        assert time.monotonic() - start < margin(1.0)
        # Without the flag the same socket still waits (and times out).
        if timeout is not None:
            a.settimeout(0.05)
            with pytest.raises(TimeoutError):
                a.send(b"y" * 65536)
        assert _hub.get_hub().pending == 0


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_msg_dontwait_never_waits_on_the_python_paths(backend, timeout):
    a, b = psocket.socketpair()
    u1 = psocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    u2 = psocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    with a, b, u1, u2:
        for s in (a, b, u1, u2):
            s.settimeout(timeout)
        u1.bind(("127.0.0.1", 0))
        start = time.monotonic()
        dontwait = stdsocket.MSG_DONTWAIT
        calls = [
            lambda: b.recvfrom(10, dontwait),
            lambda: b.recvfrom_into(bytearray(10), 10, dontwait),
            lambda: b.recvmsg(10, 0, dontwait),
            lambda: b.recvmsg_into([bytearray(10)], 0, dontwait),
            lambda: u1.recvfrom(10, dontwait),
        ]
        for call in calls:
            with pytest.raises(BlockingIOError):
                call()
        _fill(a)
        with pytest.raises(BlockingIOError):
            a.sendmsg([b"z" * 65536], [], dontwait)
        assert time.monotonic() - start < margin(1.0)
        # Data that is there comes out with the flag as without it.
        u2.sendto(b"dgram", 0, u1.getsockname())
        deadline = time.monotonic() + margin(2.0)
        while True:
            try:
                assert u1.recvfrom(10, dontwait)[0] == b"dgram"
                break
            except BlockingIOError:
                assert time.monotonic() < deadline
                pyhost.sleep(0.001)
        # Bad arguments still get the stdlib's own errors.
        with pytest.raises(TypeError, match=r"\(1 given\)"):
            u2.sendto(b"foo")
        with pytest.raises(TypeError, match=r"\(4 given\)"):
            u2.sendto(b"foo", 0, u1.getsockname(), 4)
        assert _hub.get_hub().pending == 0


# -- item 6: getaddrinfo's enums ----------------------------------------------

@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", None])
def test_getaddrinfo_returns_enums_like_the_stdlib(backend, host):
    got = psocket.getaddrinfo(host, 80, stdsocket.AF_INET,
                              stdsocket.SOCK_STREAM)
    want = stdsocket.getaddrinfo(host, 80, stdsocket.AF_INET,
                                 stdsocket.SOCK_STREAM)
    assert got == want
    for (family, kind, *_), (wfamily, wkind, *_) in zip(got, want):
        assert type(family) is type(wfamily) is stdsocket.AddressFamily
        assert type(kind) is type(wkind) is stdsocket.SocketKind
        assert family.name == "AF_INET" and kind.name == "SOCK_STREAM"


# -- item 7: no reference to a failing call's arguments ---------------------

@pytest.mark.parametrize("name", ["getnameinfo", "gethostbyname",
                                  "gethostbyname_ex", "gethostbyaddr",
                                  "getaddrinfo"])
def test_failing_resolver_call_keeps_no_reference_to_its_argument(
        backend, name):
    func = getattr(psocket, name)
    # A fresh, uninterned string; getnameinfo fails with TypeError (it
    # wants a tuple), the others with a resolver error.
    arg = "pyhost-refcount-" + name + ".invalid"
    before = sys.getrefcount(arg)
    try:
        if name == "getnameinfo":
            func(arg, 0)
        elif name == "getaddrinfo":
            func(arg, 80)
        else:
            func(arg)
    except (TypeError, OSError) as exc:
        # While the exception (and its traceback) lives, as in CPython's
        # testRefCountGetNameInfo.
        assert sys.getrefcount(arg) == before, exc
    else:
        pytest.fail("the call should have failed")


# -- item 8: a signal handler's exception out of a blocked sendall ----------

@pytest.mark.parametrize("timeout", [None, 1.5])
def test_signal_exception_interrupts_a_blocked_sendall(backend, timeout):
    def handler(*args):
        math.acosh(1)
        1 // 0

    c, s = psocket.socketpair()
    old = signal.signal(signal.SIGALRM, handler)
    try:
        c.settimeout(timeout)
        start = time.monotonic()
        with pytest.raises(ZeroDivisionError):
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            c.sendall(b"x" * (16 << 20))
        assert time.monotonic() - start < margin(1.0)
        if timeout is not None:
            # The socket's own timeout still works afterwards.
            c.settimeout(0.2)
            with pytest.raises(TimeoutError):
                c.sendall(b"x" * (16 << 20))
        assert _hub.get_hub().pending == 0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        c.close()
        s.close()


# -- item 4: park / wake / call_later ----------------------------------------

def test_park_wake_call_later_as_a_wake_up_primitive(backend):
    """The pattern of pyhost.monkey's cooperative lock: park on a key, a
    timer wakes with False, a releaser wakes with True; a late or stale
    wake does nothing."""
    hub = _hub.get_hub()
    results = []

    def waiter(timeout):
        g = greenlet.getcurrent()
        key = object()
        waiters.append((g, key))
        timer = hub.call_later(timeout, hub.wake, g, key, False)
        try:
            results.append(hub.park(key))
        finally:
            timer.cancel()

    waiters = []
    t1 = pyhost.spawn(waiter, 5.0)
    t2 = pyhost.spawn(waiter, 0.01)
    pyhost.schedule()
    assert len(waiters) == 2
    g1, key1 = waiters[0]
    g2, key2 = waiters[1]
    pyhost.sleep(0.05)            # t2's timer fires
    assert results == [False]
    assert hub.wake(g2, key2, True) is False   # late: t2 is not parked
    assert hub.wake(g1, object(), True) is False  # wrong key: stale
    assert hub.wake(g1, key1, True) is True
    t1.join()
    t2.join()
    assert results == [False, True]
