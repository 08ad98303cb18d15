# SPDX-License-Identifier: MIT
"""Timeouts and deadlines for pyhost's Python code.

The one place that validates a timeout (with the same messages as the hub's
C code, ``pyhost__timeout_converter``), turns it into a deadline on the
monotonic clock, and a deadline back into the seconds left, so that a wait
that is retried (a spurious wake-up, a would-block after readiness) never
stretches its caller's timeout.  Waiting itself is the hub's timed park,
``hub.park(key, timeout)``, and the C socket calls.
"""

import math
import time

__all__ = ["NAN_MESSAGE", "NEGATIVE_MESSAGE", "check", "deadline", "left"]

NAN_MESSAGE = "Invalid value NaN (not a number)"
NEGATIVE_MESSAGE = "timeout value must be a non-negative number"

_isnan = math.isnan
_monotonic = time.monotonic


def check(timeout):
    """Return timeout in seconds as a float, or None for None (no timeout).

    TypeError when it is not a real number (``math.isnan`` words it as the
    C code's ``PyFloat_AsDouble`` does), ValueError for NaN or a negative
    number.  0 and inf are valid.
    """
    if timeout is None:
        return None
    if _isnan(timeout):
        raise ValueError(NAN_MESSAGE)
    if timeout < 0:
        raise ValueError(NEGATIVE_MESSAGE)
    return float(timeout)


def deadline(timeout):
    """The monotonic time at which timeout seconds from now have passed
    (checked as by check()); None for no timeout."""
    timeout = check(timeout)
    return None if timeout is None else _monotonic() + timeout


def left(deadline):
    """Seconds left until deadline, 0.0 once it has passed; None for
    None."""
    if deadline is None:
        return None
    remaining = deadline - _monotonic()
    return remaining if remaining > 0 else 0.0
