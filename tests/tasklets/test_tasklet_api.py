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

from hub_helpers import margin


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
    out = []
    for d in (0.03, 0.01, 0.02):
        pyhost.spawn(lambda d=d: (pyhost.sleep(d), out.append(d)))
    t0 = time.monotonic()
    pyhost.run()
    assert out == [0.01, 0.02, 0.03]
    assert 0.025 <= time.monotonic() - t0 < margin(1.0)


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
    assert 0.04 <= time.monotonic() - t0 < margin(1.0)
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
    pyhost.spawn(pyhost.sleep, 0.5)
    t0 = time.monotonic()
    assert pyhost.run(0.02) is False
    assert time.monotonic() - t0 < margin(0.4)
    assert pyhost.run() is True


def test_tasklets_are_greenlets_and_getcurrent(backend):
    seen = []
    t = pyhost.spawn(lambda: seen.append(pyhost.getcurrent()))
    t.join()
    assert seen == [t]
    assert isinstance(t, greenlet.greenlet)
    assert pyhost.getcurrent() is pyhost.getmain()


def test_call_in_thread(backend):
    ticks = []

    def ticker():
        for _ in range(5):
            ticks.append(1)
            pyhost.sleep(0.005)

    pyhost.spawn(ticker)
    assert tasklets.call_in_thread(lambda: (time.sleep(0.05), 5)[1]) == 5
    assert len(ticks) >= 3  # the hub kept running meanwhile
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
    th.join(margin(5))
    assert results["value"] == th.ident
    assert results["hub"] != id(tasklets.get_hub())


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
