# SPDX-License-Identifier: MIT
"""The hub's one timed wait and the per-fd stash.

hub.park(key, timeout) returns the waker's value, or TIMED_OUT (which no
waker can pass) when the timeout passed first; every timeout in pyhost is
validated once, with the same messages in C and in Python; bytes that a
receive got after its caller stopped waiting stay in the hub and come out of
the next receive on that fd, whichever receive method it is, until the fd is
closed."""
import math
import threading
import time

import greenlet
import pytest

import pyhost
import pyhost.socket as psocket
from pyhost import monkey, tasklets
from pyhost.tasklets import _deadline, _hub

NAN = "Invalid value NaN (not a number)"
NEGATIVE = "timeout value must be a non-negative number"


# -- park with a deadline ------------------------------------------------------

def test_park_that_times_out_returns_timed_out(backend):
    hub = _hub.get_hub()
    t0 = time.monotonic()
    assert hub.park(object(), 0.02) is _hub.TIMED_OUT
    assert time.monotonic() - t0 >= 0.02
    assert hub.pending == 0


def test_park_woken_just_before_its_deadline_returns_the_value(backend):
    """A wake due at the same moment as the deadline but armed first wins:
    the park returns the value, and its own deadline is then a no-op."""
    hub = _hub.get_hub()
    key = object()
    hub.call_later(0.02, hub.wake, greenlet.getcurrent(), key, "value")
    assert hub.park(key, 0.02) == "value"
    # The deadline was disarmed with the park: nothing fires later.
    assert hub.park(object(), 0.04) is _hub.TIMED_OUT


def test_deadline_just_before_a_wake_wins_and_the_wake_is_refused(backend):
    hub = _hub.get_hub()
    key = object()
    woken = []

    def late_wake():
        woken.append(hub.wake(g, key, "value"))

    # The park's deadline is armed before the waker's timer of the same
    # delay: the deadline comes first.
    def waiter():
        results.append(hub.park(key, 0.02))

    results = []
    g = pyhost.spawn(waiter)
    pyhost.schedule()
    hub.call_later(0.02, late_wake)
    pyhost.sleep(0.05)
    assert results == [_hub.TIMED_OUT]
    assert woken == [False]


def test_park_with_timeout_zero_times_out_after_one_round(backend):
    hub = _hub.get_hub()
    ran = []
    pyhost.spawn(ran.append, 1)
    assert hub.park(object(), 0) is _hub.TIMED_OUT
    assert ran == [1]


def test_timed_out_is_not_a_value_a_waker_can_pass(backend):
    hub = _hub.get_hub()
    with pytest.raises(ValueError, match="TIMED_OUT"):
        hub.wake(greenlet.getcurrent(), object(), _hub.TIMED_OUT)
    with pytest.raises(ValueError, match="TIMED_OUT"):
        hub.job_done(greenlet.getcurrent(), object(), _hub.TIMED_OUT)
    assert repr(_hub.TIMED_OUT) == "pyhost.tasklets._hub.TIMED_OUT"


def test_infinite_park_never_fires_and_is_ended_by_a_throw(backend):
    hub = _hub.get_hub()
    got = []

    def waiter():
        try:
            hub.park(object(), math.inf)
        except KeyError:
            got.append("thrown")

    t = pyhost.spawn(waiter)
    assert pyhost.run(timeout=0.03) is False   # a timer that never fires
    hub.throw(t, KeyError())
    t.join()
    assert got == ["thrown"]


# -- one validation, one set of messages ---------------------------------------

@pytest.mark.parametrize("bad, message", [(math.nan, NAN), (-2, NEGATIVE),
                                          (-0.5, NEGATIVE)])
def test_bad_timeouts_have_one_message_in_c_and_python(backend, bad, message):
    hub = _hub.get_hub()
    t = pyhost.spawn(pyhost.sleep, 0)
    lock = monkey.CooperativeLock()
    a, b = psocket.socketpair()
    calls = [
        lambda: hub.park(object(), bad),
        lambda: hub.run_until_idle(object(), bad),
        lambda: hub.call_later(bad, print),
        lambda: hub.recv(a.fileno(), 1, 0, bad),
        lambda: hub.wait_fd(a.fileno(), _hub.POLLIN, bad),
        lambda: hub.wait_fds([(a.fileno(), _hub.POLLIN)], bad),
        lambda: _deadline.check(bad),
        lambda: pyhost.sleep(bad),
        lambda: pyhost.run(bad),
        lambda: pyhost.Timeout(bad),
        lambda: t.join(bad),
        lambda: lock.acquire(True, bad),
    ]
    with a, b:
        for call in calls:
            with pytest.raises(ValueError) as info:
                call()
            assert str(info.value) == message
    t.join()
    assert _deadline.NAN_MESSAGE == NAN
    assert _deadline.NEGATIVE_MESSAGE == NEGATIVE


def test_timeout_type_errors_match_in_c_and_python(backend):
    with pytest.raises(TypeError) as ours:
        _deadline.check("1")
    with pytest.raises(TypeError) as theirs:
        _hub.get_hub().park(object(), "1")
    assert str(ours.value) == str(theirs.value)


def test_deadline_helper_counts_down_to_zero():
    assert _deadline.deadline(None) is None
    assert _deadline.left(None) is None
    d = _deadline.deadline(0.02)
    assert 0 < _deadline.left(d) <= 0.02
    time.sleep(0.03)
    assert _deadline.left(d) == 0.0
    assert _deadline.left(_deadline.deadline(math.inf)) == math.inf


def test_hub_methods_report_bad_arguments_like_cpython(backend):
    hub = _hub.get_hub()
    with pytest.raises(TypeError, match=r"recv\(\) takes exactly 4 "
                                        r"arguments \(3 given\)"):
        hub.recv(0, 1, 0)
    with pytest.raises(TypeError, match="'str' object cannot be interpreted "
                                        "as an integer"):
        hub.recv(0, "x", 0, None)
    with pytest.raises(TypeError, match="a bytes-like object is required, "
                                        "not 'str'"):
        hub.send(0, "x", 0, None)
    with pytest.raises(TypeError, match=r"throw\(\) argument 2 must be "
                                        r"BaseException"):
        hub.throw(greenlet.getcurrent(), 1)
    with pytest.raises(TypeError, match="call_later expected at least 2 "
                                        "arguments, got 1"):
        hub.call_later(1)


# -- the stash -----------------------------------------------------------------

class Interrupt(Exception):
    pass


def _interrupt_a_completed_recv(a, b, data, flags=0, before_resume=None):
    """A tasklet's recv on a gets data, but an exception is thrown into the
    tasklet before it runs again (what a Timeout firing in the same hub
    round does).  before_resume() runs between the throw and the
    tasklet's resumption."""
    hub = _hub.get_hub()
    outcome = []

    def reader():
        try:
            outcome.append(a.recv(100, flags))
        except Interrupt:
            outcome.append("interrupted")

    t = pyhost.spawn(reader)
    pyhost.schedule()                 # the reader parks in recv
    b.sendall(data)
    give_up = time.monotonic() + 10
    while hub.runnable == 0:          # its recv completed: it is runnable
        assert time.monotonic() < give_up
        hub.yield_()
    hub.throw(t, Interrupt())
    if before_resume is not None:
        before_resume()
    t.join()
    assert outcome == ["interrupted"]


def _stash_bytes(a, b, data):
    """Leave data in a's stash (see _interrupt_a_completed_recv)."""
    _interrupt_a_completed_recv(a, b, data)
    assert _hub.get_hub().stashed(a.fileno()) == len(data)


def test_data_received_after_a_recv_gave_up_comes_out_of_the_next_recv(
        backend):
    a, b = psocket.socketpair()
    with a, b:
        _stash_bytes(a, b, b"late bytes")
        b.sendall(b" and more")
        assert a.recv(4, psocket.MSG_PEEK) == b"late"
        assert a.recv(4) == b"late"
        assert a.recv(100) == b" bytes"       # the stash first, alone
        assert a.recv(100) == b" and more"
        assert _hub.get_hub().stashed(a.fileno()) == 0


@pytest.mark.parametrize("method", ["recv_into", "recvfrom", "recvfrom_into",
                                    "recvmsg", "recvmsg_into"])
def test_every_receive_method_returns_the_stash_first(backend, method):
    a, b = psocket.socketpair()
    with a, b:
        _stash_bytes(a, b, b"stashed")
        buf = bytearray(100)
        if method == "recv_into":
            got = buf[:a.recv_into(buf)]
        elif method == "recvfrom":
            got = a.recvfrom(100)[0]
        elif method == "recvfrom_into":
            got = buf[:a.recvfrom_into(buf)[0]]
        elif method == "recvmsg":
            got = a.recvmsg(100)[0]
        else:
            first, second = bytearray(3), bytearray(97)
            n = a.recvmsg_into([first, second])[0]
            got = (first + second)[:n]
        assert bytes(got) == b"stashed"


def test_stashed_data_makes_the_socket_readable(backend):
    a, b = psocket.socketpair()
    with a, b:
        _stash_bytes(a, b, b"x")
        assert psocket.wait_readable(a, timeout=5) & _hub.POLLIN


def test_close_drops_the_stash(backend):
    hub = _hub.get_hub()
    a, b = psocket.socketpair()
    _stash_bytes(a, b, b"old")
    fd = a.fileno()
    a.close()
    b.close()
    assert hub.stashed(fd) == 0
    c, d = psocket.socketpair()     # may reuse fd: no stale bytes
    with c, d:
        d.sendall(b"new")
        assert c.recv(100) == b"new"


def test_bytes_of_a_socket_closed_before_its_recv_resumed_never_reach_the_fds_next_socket(
        backend):
    hub = _hub.get_hub()
    a, b = psocket.socketpair()
    fd = a.fileno()
    reused = []

    def close_and_reuse():
        a.close()
        b.close()
        reused.extend(psocket.socketpair())   # likely given fd again

    _interrupt_a_completed_recv(a, b, b"old", before_resume=close_and_reuse)
    c, d = reused
    with c, d:
        assert hub.stashed(fd) == 0
        assert hub.stashed(c.fileno()) == 0
        d.sendall(b"new")
        assert c.recv(100) == b"new"


def test_a_peek_cut_short_stashes_nothing_and_the_bytes_come_once(backend):
    hub = _hub.get_hub()
    a, b = psocket.socketpair()
    with a, b:
        _interrupt_a_completed_recv(a, b, b"peeked", flags=psocket.MSG_PEEK)
        assert hub.stashed(a.fileno()) == 0
        assert a.recv(100) == b"peeked"
        a.setblocking(False)
        with pytest.raises(BlockingIOError):
            a.recv(100)


def test_socket_deadline_without_data_raises_and_stashes_nothing(backend):
    a, b = psocket.socketpair()
    with a, b:
        a.settimeout(0.02)
        with pytest.raises(TimeoutError, match="timed out"):
            a.recv(10)
        assert _hub.get_hub().stashed(a.fileno()) == 0
        b.sendall(b"after")
        assert a.recv(10) == b"after"


def test_lock_waits_with_the_timed_park_across_threads(backend):
    """CooperativeLock.acquire(timeout) gives up at its deadline, and sees
    a release by another OS thread."""
    lock = monkey.CooperativeLock()
    lock.acquire()
    t0 = time.monotonic()
    assert lock.acquire(True, 0.03) is False
    assert time.monotonic() - t0 >= 0.03
    threading.Timer(0.02, lock.release).start()
    assert lock.acquire(True, 10) is True
    lock.release()
