# SPDX-License-Identifier: MIT
"""Tasklets: Stackless-flavoured cooperative threads on pyhost's hub.

A tasklet is a greenlet whose parent is this thread's hub greenlet.  Every
blocking call (a channel, ``sleep``, a pyhost socket) parks the current
tasklet and switches to the hub, which runs the others and wakes it when its
operation completes.  Each OS thread has its own hub, created on first use.

    import pyhost

    ch = pyhost.channel()
    pyhost.spawn(lambda: ch.send("hello"))
    print(ch.receive())
"""

import sys
import traceback

import greenlet

from . import _deadline, _hub
from ._resolver import call_in_thread

__all__ = [
    "tasklet", "spawn", "schedule", "sleep", "run", "channel", "Timeout",
    "TaskletExit", "getcurrent", "getmain", "call_in_thread", "hub_backend",
    "set_backend", "get_hub",
]

getcurrent = greenlet.getcurrent
get_hub = _hub.get_hub


class TaskletExit(greenlet.GreenletExit):
    """Raised inside a tasklet by :meth:`tasklet.kill`."""


def getmain():
    """Return this thread's main tasklet (its root greenlet)."""
    return _hub.get_hub().main


class tasklet(greenlet.greenlet):
    """A cooperative thread.  ``tasklet(func)(*args)`` schedules it."""

    def __init__(self, func=None):
        hub = _hub.get_hub()
        super().__init__(parent=hub.loop)
        if func is not None and not callable(func):
            raise TypeError("tasklet() needs a callable")
        self._func = func
        self._args = ()
        self._kwargs = {}
        self._scheduled = False
        self._finished = False
        self._joiners = []
        self.value = None
        self.exception = None

    def bind(self, func, args=(), kwargs=None):
        if self._scheduled:
            raise RuntimeError("tasklet is already scheduled")
        if not callable(func):
            raise TypeError("tasklet() needs a callable")
        self._func = func
        self._args = tuple(args)
        self._kwargs = dict(kwargs or {})
        return self

    def __call__(self, *args, **kwargs):
        if self._func is None:
            raise RuntimeError("tasklet has no function to run")
        if self._scheduled:
            raise RuntimeError("tasklet is already scheduled")
        self._args, self._kwargs = args, kwargs
        self._scheduled = True
        hub = _hub.get_hub()
        # The hub greenlet may have been replaced since __init__.
        if self.parent is not hub.loop and not self:
            self.parent = hub.loop
        hub.schedule(self)
        return self

    def run(self):
        try:
            self.value = self._func(*self._args, **self._kwargs)
        except greenlet.GreenletExit:
            pass
        except BaseException as exc:
            self.exception = exc
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                _hub.get_hub().throw(getmain(), exc)
            else:
                sys.stderr.write(f"Uncaught exception in {self!r}:\n")
                traceback.print_exception(exc)
        finally:
            self._finish()

    def _finish(self):
        self._finished = True
        self._func = self._args = self._kwargs = None
        hub = _hub.get_hub()
        joiners, self._joiners = self._joiners, []
        for g, key in joiners:
            hub.wake(g, key, True)

    @property
    def alive(self):
        return self._scheduled and not self._finished

    @property
    def dead(self):
        return self._finished

    def throw(self, exc=TaskletExit):
        """Raise exc (a class or instance) in this tasklet when it runs."""
        if isinstance(exc, type):
            exc = exc()
        if self._finished:
            return
        if not self:  # scheduled but not started: it never runs func
            self._finished_before_start(exc)
            return
        _hub.get_hub().throw(self, exc)

    def _finished_before_start(self, exc):
        if not isinstance(exc, greenlet.GreenletExit):
            self.exception = exc
        # The run-queue entry finds the greenlet dead (never started
        # counts as not dead, so switch it to an immediate end).
        self._func = _noop
        self._args, self._kwargs = (), {}

    def kill(self):
        """Raise TaskletExit in the tasklet and wait until it is dead."""
        if self._finished or self is getcurrent():
            if self is getcurrent():
                raise TaskletExit()
            return
        self.throw(TaskletExit())
        if self._scheduled:
            self.join()

    def join(self, timeout=None):
        """Wait until the tasklet has finished; return True if it has."""
        timeout = _deadline.check(timeout)
        if self._finished:
            return True
        if not self._scheduled:
            raise RuntimeError("cannot join a tasklet that was never started")
        if self is getcurrent():
            raise RuntimeError("a tasklet cannot join itself")
        hub = _hub.get_hub()
        g = getcurrent()
        key = object()
        entry = (g, key)
        self._joiners.append(entry)
        try:
            # _finish() wakes us with True; a timeout returns TIMED_OUT.
            return hub.park(key, timeout) is True
        finally:
            if entry in self._joiners:
                self._joiners.remove(entry)

    def __repr__(self):
        state = ("dead" if self._finished else
                 "alive" if self._scheduled else "new")
        name = getattr(self._func, "__qualname__", None) or "?"
        return f"<pyhost.tasklet {name} {state} at {id(self):#x}>"


def _noop():
    return None


def spawn(func, *args, **kwargs):
    """Create a tasklet running func(*args, **kwargs) and schedule it."""
    return tasklet(func)(*args, **kwargs)


def schedule():
    """Let the other runnable tasklets run, then continue."""
    _hub.get_hub().yield_()


def sleep(seconds=0):
    """Park the current tasklet for seconds (0: just schedule())."""
    if seconds is None:
        raise TypeError("sleep() argument must be a number, not None")
    seconds = _deadline.check(seconds)
    hub = _hub.get_hub()
    if seconds == 0:
        hub.yield_()
        return
    # Nobody wakes this key: the park ends at its deadline (or with an
    # exception thrown in).
    hub.park(object(), seconds)


def run(timeout=None):
    """Run the other tasklets until none can make progress.

    From the main tasklet: returns True when every tasklet has finished or
    is blocked with nothing pending that could wake it, False when timeout
    seconds passed first.
    """
    timeout = _deadline.check(timeout)
    hub = _hub.get_hub()
    if getcurrent() is not hub.main:
        raise RuntimeError("run() must be called from the main tasklet")
    return bool(hub.run_until_idle(object(), timeout))


class channel:
    """A Stackless channel: a rendezvous between senders and receivers.

    ``balance`` is the number of senders waiting (positive) or receivers
    waiting (negative).  ``send`` hands the value to a waiting receiver and
    continues; with no receiver it blocks until one comes.
    """

    def __init__(self):
        self._receivers = []  # [(greenlet, key)]
        self._senders = []    # [(greenlet, key, value, is_exception)]

    @property
    def balance(self):
        return len(self._senders) - len(self._receivers)

    def _deliver(self, value, is_exc):
        hub = _hub.get_hub()
        while self._receivers:
            g, key = self._receivers.pop(0)
            if hub.wake(g, key, (value, is_exc)):
                return True
        return False

    def _send(self, value, is_exc):
        if self._deliver(value, is_exc):
            return
        hub = _hub.get_hub()
        g = getcurrent()
        key = object()
        entry = (g, key, value, is_exc)
        self._senders.append(entry)
        try:
            hub.park(key)
        finally:
            if entry in self._senders:
                self._senders.remove(entry)

    def send(self, value):
        """Send value to a receiver, waiting for one if needed."""
        self._send(value, False)

    def send_exception(self, exc_class, *args):
        """Make the receiver raise exc_class(*args)."""
        if not (isinstance(exc_class, type) and
                issubclass(exc_class, BaseException)):
            raise TypeError("send_exception needs an exception class")
        self._send(exc_class(*args), True)

    def send_throw(self, exc):
        """Make the receiver raise the exception instance exc."""
        self._send(exc, True)

    def receive(self):
        """Return the next value sent (or raise the exception sent)."""
        hub = _hub.get_hub()
        if self._senders:
            g, key, value, is_exc = self._senders.pop(0)
            hub.wake(g, key)
        else:
            g = getcurrent()
            key = object()
            entry = (g, key)
            self._receivers.append(entry)
            try:
                value, is_exc = hub.park(key)
            finally:
                if entry in self._receivers:
                    self._receivers.remove(entry)
        if is_exc:
            raise value
        return value

    def __iter__(self):
        return self

    def __next__(self):
        return self.receive()


class Timeout(BaseException):
    """Limit the time a block may run: ``with Timeout(2): ...``.

    If the block is still running after ``seconds``, the Timeout itself is
    raised inside it (it derives from BaseException, so ``except
    Exception`` does not swallow it); pass ``exception`` to raise that
    instead, or ``exception=False`` to leave the block silently.
    """

    def __init__(self, seconds=None, exception=None):
        super().__init__(seconds)
        self.seconds = _deadline.check(seconds)
        self.exception = exception
        self._timer = None

    def start(self):
        if self.pending:
            raise RuntimeError("Timeout is already started")
        if self.seconds is None:
            return self
        hub = _hub.get_hub()
        exc = self
        if self.exception not in (None, False):
            exc = self.exception
            if isinstance(exc, type):
                exc = exc()
        self._timer = hub.call_later(self.seconds, hub.throw, getcurrent(),
                                     exc)
        return self

    @property
    def pending(self):
        return self._timer is not None and self._timer.pending

    def cancel(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def __enter__(self):
        return self.start()

    def __exit__(self, typ, value, tb):
        self.cancel()
        return value is self and self.exception is False

    def __str__(self):
        return f"timed out after {self.seconds} seconds"


def hub_backend():
    """Return 'uring' or 'epoll': the backend of this thread's hub."""
    return _hub.get_hub().backend


def set_backend(name, abandon=False):
    """Give this thread a fresh hub on backend name ('uring', 'epoll' or
    'auto').  RuntimeError while the current hub is busy, unless abandon is
    true: then its blocked tasklets and pending operations are left behind
    for good (for test harnesses recovering from a failed test)."""
    if name not in ("uring", "epoll", "auto"):
        raise ValueError(
            f"unknown hub backend {name!r} (expected 'uring', 'epoll' or "
            "'auto')")
    return _hub.new_hub(name, abandon).backend
