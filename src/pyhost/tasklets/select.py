# SPDX-License-Identifier: MIT
"""select() and poll() for tasklets.

Each call first asks the real select/poll without waiting: that raises
exactly what the stdlib raises (only a closed fd is an error: EBADF for
select, POLLNVAL for poll) and answers at once when something is ready.
Otherwise the tasklet parks on one hub operation per fd until any is ready
or the timeout passes, and the real call is asked again, so the result and
its count always come from the returned set.  A reset socket is readiness
(readable and writable; POLLIN|POLLERR|POLLHUP), never a failure of the
whole call.  No epoll/devpoll objects: they would block the hub.
"""

import math as _math
import select as _stdselect
from select import (  # noqa: F401
    error, POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL,
    POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLMSG, POLLRDHUP,
    PIPE_BUF,
)

from . import _deadline, _hub

# The originals, captured at import so that a monkey patch that installs
# this module's functions into `select` cannot make them call themselves.
_real_select = _stdselect.select
_real_poll = _stdselect.poll

__all__ = ["select", "poll", "error"] + [
    name for name in dir(_stdselect) if name.startswith("POLL")
] + ["PIPE_BUF"]


def _fileno(obj):
    return obj if isinstance(obj, int) else obj.fileno()


def _wait_any(fd_events, deadline):
    """Park until one of {fd: events} is ready or deadline passes.
    Return False once the deadline has passed."""
    left = _deadline.left(deadline)
    if left == 0:
        return False
    hub = _hub.get_hub()
    if not fd_events:
        # Only the deadline can end this park (with no deadline, nothing
        # can: the hub reports the deadlock).
        hub.park(object(), left)
        return False
    hub.wait_fds(list(fd_events.items()), left)
    return True


def select(rlist, wlist, xlist, timeout=None):
    """Wait until some of the objects are ready; like select.select."""
    if timeout is not None and not (
            isinstance(timeout, (int, float)) and timeout >= 0):
        # Invalid: let the real select raise its own error.
        _real_select([], [], [], timeout)
    ready = _real_select(rlist, wlist, xlist, 0)
    if ready[0] or ready[1] or ready[2] or timeout == 0:
        return ready
    fd_events = {}
    for objs, events in ((rlist, POLLIN), (wlist, POLLOUT),
                         (xlist, POLLPRI)):
        for obj in objs:
            fd = _fileno(obj)
            fd_events[fd] = fd_events.get(fd, 0) | events
    deadline = _deadline.deadline(timeout)
    while _wait_any(fd_events, deadline):
        ready = _real_select(rlist, wlist, xlist, 0)
        if ready[0] or ready[1] or ready[2]:
            return ready
    return [], [], []


class poll:
    """Like select.poll(), for tasklets."""

    def __init__(self):
        self._real = _real_poll()
        self._fds = {}

    def register(self, fd, eventmask=POLLIN | POLLPRI | POLLOUT):
        self._real.register(fd, eventmask)
        self._fds[_fileno(fd)] = eventmask

    def modify(self, fd, eventmask):
        self._real.modify(fd, eventmask)
        self._fds[_fileno(fd)] = eventmask

    def unregister(self, fd):
        self._real.unregister(fd)
        del self._fds[_fileno(fd)]

    def poll(self, timeout=None):
        """Return [(fd, revents)]; timeout in milliseconds (None or
        negative: wait until something is ready)."""
        if timeout is not None:
            try:
                timeout = float(timeout)
            except (TypeError, ValueError):
                raise TypeError(
                    "timeout must be an integer or None") from None
            if _math.isnan(timeout):
                raise ValueError(_deadline.NAN_MESSAGE)
            if timeout < 0:
                timeout = None
        ready = self._real.poll(0)
        if ready or timeout == 0:
            return ready
        deadline = _deadline.deadline(
            None if timeout is None else timeout / 1000.0)
        while _wait_any(dict(self._fds), deadline):
            ready = self._real.poll(0)
            if ready:
                return ready
        return []
