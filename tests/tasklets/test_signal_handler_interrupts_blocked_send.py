# SPDX-License-Identifier: MIT
"""A Python signal handler's exception interrupts a sendall blocked on a
full socket (as in the stdlib, where EINTR runs the handler), ends its
operation, and leaves the socket's own timeout working."""
import math
import signal
import time

import pytest

import pyhost.socket as psocket
from pyhost.tasklets import _hub


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_signal_exception_interrupts_a_blocked_sendall(backend, timeout):
    """SIGALRM fires while sendall waits for buffer space: the handler's
    ZeroDivisionError comes out of sendall before the socket's timeout,
    with no operation left pending."""
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
        if timeout is not None:
            # The signal interrupted the wait; the socket's timeout did
            # not end it first (with timeout=None nothing else would).
            assert time.monotonic() - start < timeout
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
