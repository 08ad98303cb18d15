# SPDX-License-Identifier: MIT
"""The Stackless-flavoured tasklet API: spawn, schedule, channels, sleep,
Timeout, join/kill, run, threads, and the bad inputs."""
import math
import threading
import time

import greenlet
import pytest

import pyhost
from pyhost import tasklets
from pyhost.tasklets import _hub

from testenv import scaled


def test_spawn_and_schedule_interleave(backend):
    out = []

    def worker(name):
        for i in range(3):
            out.append((name, i))
            pyhost.schedule()

    a = pyhost.tasklet(worker)("a")
    b = pyhost.spawn(worker, "b")
    assert pyhost.run() is True
    assert out == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2),
                   ("b", 2)]
    assert a.dead and b.dead and not a.alive


def test_channel_send_receive_and_balance(backend):
    ch = pyhost.channel()
    got = []

    def receiver():
        got.append(ch.receive())
        got.append(ch.receive())

    pyhost.spawn(receiver)
    pyhost.schedule()
    assert ch.balance == -1
    ch.send("x")
    ch.send("y")
    pyhost.run()
    assert got == ["x", "y"]

    sender = pyhost.spawn(ch.send, 42)
    pyhost.schedule()
    assert ch.balance == 1
    assert ch.receive() == 42
    assert sender.join(1)
    assert ch.balance == 0


def test_channel_send_exception(backend):
    ch = pyhost.channel()
    pyhost.spawn(ch.send_exception, KeyError, "boom")
    with pytest.raises(KeyError, match="boom"):
        ch.receive()
    with pytest.raises(TypeError):
        ch.send_exception("not a class")


def test_sleep_orders_by_deadline(backend):
    """Sleepers wake in deadline order, not spawn order: they sleep at the
    same time, and none wakes before its time."""
    out = []
    for d in (0.03, 0.01, 0.02):
        pyhost.spawn(lambda d=d: (pyhost.sleep(d), out.append(d)))
    t0 = time.monotonic()
    pyhost.run()
    assert out == [0.01, 0.02, 0.03]
    assert time.monotonic() - t0 >= 0.025


@pytest.mark.parametrize("bad", [-1, float("nan"), -0.5])
def test_bad_seconds_raise_value_error(bad):
    with pytest.raises(ValueError):
        pyhost.sleep(bad)
    with pytest.raises(ValueError):
        pyhost.Timeout(bad)
    with pytest.raises(ValueError):
        pyhost.run(bad)


def test_timeout_context_manager(backend):
    t0 = time.monotonic()
    with pytest.raises(pyhost.Timeout) as info:
        with pyhost.Timeout(0.05):
            pyhost.sleep(10)
    # It fired (the sleep alone would have lasted 10 s), not early.
    assert 0.04 <= time.monotonic() - t0 < 10
    assert "0.05" in str(info.value)

    with pyhost.Timeout(0.02, False):
        pyhost.sleep(10)

    with pytest.raises(KeyError):
        with pyhost.Timeout(0.02, KeyError("late")):
            pyhost.sleep(10)

    # Not reached: nothing raised, and the timer is gone afterwards.
    with pyhost.Timeout(5) as t:
        pyhost.sleep(0.001)
    assert not t.pending
    # Timeout is a BaseException: `except Exception` does not eat it.
    assert not issubclass(pyhost.Timeout, Exception)


def test_join_kill_and_results(backend):
    t = pyhost.spawn(lambda: 7)
    assert t.join() is True and t.value == 7

    started = []

    def forever():
        started.append(1)
        pyhost.sleep(100)

    k = pyhost.spawn(forever)
    pyhost.schedule()
    assert started and k.alive
    assert k.join(0.01) is False
    k.kill()
    assert k.dead and k.exception is None

    never = pyhost.spawn(forever)
    never.kill()  # killed before it ever ran: func never runs
    assert never.dead and not started[1:]

    with pytest.raises(RuntimeError):
        pyhost.tasklet(forever).join()


def test_uncaught_exception_is_kept_and_printed(backend, capsys):
    def bad():
        raise ValueError("oops")

    t = pyhost.spawn(bad)
    t.join()
    assert isinstance(t.exception, ValueError)
    assert "ValueError: oops" in capsys.readouterr().err


def test_keyboard_interrupt_in_tasklet_reaches_main(backend):
    def bad():
        raise KeyboardInterrupt

    pyhost.spawn(bad)
    with pytest.raises(KeyboardInterrupt):
        pyhost.sleep(1)


def test_deadlock_is_reported_to_main(backend):
    ch = pyhost.channel()
    with pytest.raises(RuntimeError, match="deadlock"):
        ch.receive()
    assert ch.balance == 0


def test_run_with_timeout_returns_false(backend):
    """run(timeout) returns False at its timeout, while a tasklet still
    sleeps; run() then waits for it and returns True."""
    sleeper = pyhost.spawn(pyhost.sleep, 0.5)
    assert pyhost.run(0.02) is False
    assert sleeper.alive  # run returned at its own timeout, not the sleep's
    assert pyhost.run() is True
    assert sleeper.dead


def test_tasklets_are_greenlets_and_getcurrent(backend):
    seen = []
    t = pyhost.spawn(lambda: seen.append(pyhost.getcurrent()))
    t.join()
    assert seen == [t]
    assert isinstance(t, greenlet.greenlet)
    assert pyhost.getcurrent() is pyhost.getmain()


def test_call_in_thread(backend):
    """call_in_thread returns the function's result or raises its error;
    the hub runs the other tasklets while the thread works."""
    ticks = []
    ticked = threading.Event()

    def ticker():
        for _ in range(5):
            ticks.append(1)
            pyhost.sleep(0.005)
        ticked.set()

    def work():
        # Done only once the ticker has finished: it can only finish if
        # the hub keeps running while this thread works.
        return 5 if ticked.wait(scaled(10)) else "the hub stood still"

    pyhost.spawn(ticker)
    assert tasklets.call_in_thread(work) == 5
    assert len(ticks) == 5  # the hub kept running meanwhile
    with pytest.raises(ZeroDivisionError):
        tasklets.call_in_thread(lambda: 1 / 0)


def test_each_thread_has_its_own_hub(backend):
    results = {}

    def in_thread():
        hub = tasklets.get_hub()
        ch = pyhost.channel()
        pyhost.spawn(ch.send, threading.get_ident())
        results["value"] = ch.receive()
        results["hub"] = id(hub)

    th = threading.Thread(target=in_thread)
    th.start()
    th.join(scaled(10))
    assert results["value"] == th.ident
    assert results["hub"] != id(tasklets.get_hub())


@pytest.mark.leaks_on_purpose(
    "abandon=True drops a hub with a tasklet blocked for good: the hub and "
    "its tasklet are left behind for good (set_backend's docstring)")
def test_set_backend_rejects_busy_hub_and_bad_names(backend):
    with pytest.raises(ValueError, match="unknown hub backend"):
        tasklets.set_backend("kqueue")
    t = pyhost.spawn(pyhost.sleep, 0.05)
    pyhost.schedule()
    with pytest.raises(RuntimeError, match="busy"):
        tasklets.set_backend(backend)
    t.join()
    assert tasklets.set_backend(backend) == backend
    # A tasklet blocked for good: only abandon=True may drop the hub.
    stuck = pyhost.spawn(pyhost.channel().receive)
    pyhost.schedule()
    with pytest.raises(RuntimeError, match="busy"):
        tasklets.set_backend(backend)
    assert tasklets.set_backend(backend, abandon=True) == backend
    assert stuck.alive
    assert tasklets.call_in_thread(lambda: 3) == 3  # the new hub works


def test_channel_wait_is_interrupted_by_kill(backend):
    ch = pyhost.channel()
    t = pyhost.spawn(ch.receive)
    pyhost.schedule()
    assert ch.balance == -1
    t.kill()
    assert ch.balance == 0


def test_nan_is_not_a_valid_join_timeout(backend):
    t = pyhost.spawn(pyhost.sleep, 0)
    with pytest.raises(ValueError):
        t.join(math.nan)
    t.join()


def test_exception_out_of_run_with_timeout_is_not_replaced(backend):
    """An exception that ends run(timeout) (a tasklet's KeyboardInterrupt
    goes to main) comes out as itself, not as a SystemError: run disarms
    its timer without calling Python code while the exception is set, and
    leaves nothing armed to wake main later."""
    def interrupt():
        pyhost.sleep(0.01)
        raise KeyboardInterrupt  # a tasklet's Ctrl-C goes to main

    pyhost.spawn(interrupt)
    with pytest.raises(KeyboardInterrupt):
        pyhost.run(timeout=5)
    # The run's timer is gone: nothing is left armed to wake main later.
    assert _hub.get_hub().pending == 0
    assert pyhost.run(timeout=1) is True


def test_timed_park_and_wake_as_a_wake_up_primitive(backend):
    """The pattern of pyhost.monkey's cooperative lock: park on a key with
    a timeout (TIMED_OUT when it passes), a releaser wakes with True; a
    late or stale wake does nothing."""
    hub = _hub.get_hub()
    results = []

    def waiter(timeout):
        g = greenlet.getcurrent()
        key = object()
        waiters.append((g, key))
        results.append(hub.park(key, timeout))

    waiters = []
    t1 = pyhost.spawn(waiter, 5.0)
    t2 = pyhost.spawn(waiter, 0.01)
    pyhost.schedule()
    assert len(waiters) == 2
    g1, key1 = waiters[0]
    g2, key2 = waiters[1]
    pyhost.sleep(0.05)            # t2's timeout passes
    assert results == [_hub.TIMED_OUT]
    assert hub.wake(g2, key2, True) is False   # late: t2 is not parked
    assert hub.wake(g1, object(), True) is False  # wrong key: stale
    assert hub.wake(g1, key1, True) is True
    t1.join()
    t2.join()
    assert results == [_hub.TIMED_OUT, True]
