# SPDX-License-Identifier: MIT
"""Regression tests for bugs found reviewing the hub's C code (reference
handling and error paths)."""
import pytest

import pyhost
from pyhost.tasklets import _hub


def test_exception_out_of_run_with_timeout_is_not_replaced(backend):
    """run(timeout) disarms its timer without calling Python code while the
    interrupting exception is set (it came out as SystemError)."""
    def interrupt():
        pyhost.sleep(0.01)
        raise KeyboardInterrupt  # a tasklet's Ctrl-C goes to main

    pyhost.spawn(interrupt)
    with pytest.raises(KeyboardInterrupt):
        pyhost.run(timeout=5)
    # The run's timer is gone: nothing is left armed to wake main later.
    assert _hub.get_hub().pending == 0
    assert pyhost.run(timeout=1) is True


def test_recv_into_a_4gib_buffer_waits_for_data(backend):
    """io_uring's SQE length is 32 bits: a 4 GiB buffer wrapped to 0 and the
    recv completed at once with 0 (EOF) instead of waiting for data."""
    import mmap
    import pyhost.socket as psocket
    try:
        big = mmap.mmap(-1, 4 << 30, flags=mmap.MAP_PRIVATE |
                        mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0))
    except (OSError, OverflowError) as exc:
        pytest.skip(f"cannot map 4 GiB of address space here: {exc}")
    a, b = psocket.socketpair()
    with big, a, b:
        def send_later():
            pyhost.sleep(0.02)
            b.sendall(b"hello")
        pyhost.spawn(send_later)
        assert a.recv_into(big) == 5
        assert big[:5] == b"hello"
        pyhost.run()


@pytest.mark.parametrize("seconds", [float("inf"), 1e300, 9e9])
def test_very_long_waits_saturate_instead_of_wrapping(backend, seconds):
    """Deadlines are now + seconds in int64 nanoseconds: an infinite or
    huge wait wrapped (undefined behaviour) and the hub hung or fired at
    once; it must simply not fire."""
    import pyhost.socket as psocket
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


def test_wait_fds_rejects_bad_pairs_with_type_error(backend):
    """A pair that is not a tuple was a SystemError from PyArg_ParseTuple;
    the ops started before a bad pair still end before the call returns."""
    import pyhost.socket as psocket
    hub = _hub.get_hub()
    a, b = psocket.socketpair()
    with a, b:
        for pairs in ([[a.fileno(), _hub.POLLIN]],
                      [(a.fileno(), _hub.POLLIN), 7],
                      [(a.fileno(), "x")]):
            with pytest.raises(TypeError):
                hub.wait_fds(pairs, 1.0)
            assert hub.pending == 0
