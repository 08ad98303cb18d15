# SPDX-License-Identifier: MIT
"""Make unmodified stdlib code run on tasklets.

``patch_all()`` swaps the blocking pieces of the standard library for their
pyhost counterparts, so ``http.client``, ``urllib``, ``socketserver``,
``smtplib`` and friends park the calling tasklet instead of the OS thread::

    import pyhost.monkey
    pyhost.monkey.patch_all()      # first thing, before other imports

What each patch does:

- ``patch_socket``: ``socket.socket`` becomes :class:`pyhost.socket.socket`
  and the name lookups (``getaddrinfo``, ``gethostbyname``, ...) run on a
  worker thread; ``create_connection``, ``socketpair``, ``fromfd`` and the
  other helpers build on those, so they follow.  ``socket.SocketType``
  stays the C type, as the stdlib documents.
- ``patch_select``: ``select.select`` and ``select.poll`` become cooperative;
  ``epoll``/``devpoll``/``kqueue`` are removed (a blocking epoll would stall
  the whole hub), so code that probes for them falls back to ``poll``.
- ``patch_selectors``: ``PollSelector`` and ``SelectSelector`` wait through
  the pyhost versions, ``DefaultSelector`` is ``PollSelector``, and the
  selectors built on the removed objects are removed.
- ``patch_ssl``: ``SSLContext.wrap_socket`` returns
  :class:`pyhost.ssl.SSLSocket` (TLS over MemoryBIO on a cooperative
  socket); ``ssl.SSLSocket`` is that class.
- ``patch_time``: ``time.sleep`` is :func:`pyhost.sleep`.
- ``patch_thread``: the locks ``threading`` builds its Condition, Event,
  Semaphore, Barrier and Queue waits on park the tasklet instead of the OS
  thread, so a tasklet waiting on an Event lets the tasklet that sets it run.
  Threads stay real OS threads (each gets its own hub on first use).

Patches are applied once; :func:`is_patched` and :func:`get_original` tell
what was replaced.  Modules that copied a name before patching (``from
socket import socket``) keep the original: patch first.
"""
import collections
import importlib
import threading as _threading
import time as _time

__all__ = [
    "patch_all", "patch_socket", "patch_select", "patch_selectors",
    "patch_ssl", "patch_time", "patch_thread", "is_patched", "get_original",
]

# (module name, attribute) -> the original value; a missing original (the
# patch added the attribute) is stored as _ABSENT.  Protected by the GIL;
# patching is meant to happen once, at start-up, from one thread.
_originals = {}
_ABSENT = object()
_done = set()


def _patch(module, name, value):
    key = (module.__name__, name)
    if key not in _originals:
        _originals[key] = getattr(module, name, _ABSENT)
    setattr(module, name, value)


def _remove(module, name):
    if hasattr(module, name):
        key = (module.__name__, name)
        if key not in _originals:
            _originals[key] = getattr(module, name)
        delattr(module, name)


def get_original(module_name, name):
    """Return what MODULE_NAME.NAME was before pyhost patched it (the
    current value when it was not patched).  Raises AttributeError when the
    attribute did not exist."""
    value = _originals.get((module_name, name))
    if value is None:
        value = getattr(importlib.import_module(module_name), name)
    if value is _ABSENT:
        raise AttributeError(f"{module_name}.{name} did not exist before "
                             f"pyhost patched it")
    return value


def is_patched(what):
    """True when the patch named WHAT ('socket', 'select', 'selectors',
    'ssl', 'time', 'thread') was applied."""
    return what in _done


# What patch_socket replaces: the class, and the name lookups, which call
# C directly.  The stdlib's create_connection, create_server, socketpair,
# fromfd and getfqdn are kept: they build on these module globals, so they
# become cooperative too and keep honouring a test's mock of socket.socket.
_SOCKET_NAMES = ("socket", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                 "gethostbyaddr", "getnameinfo")


def patch_socket():
    """Replace the stdlib socket module's blocking API with pyhost.socket."""
    if "socket" in _done:
        return
    import socket
    from pyhost.tasklets import socket as green
    for name in _SOCKET_NAMES:
        _patch(socket, name, getattr(green, name))
    _done.add("socket")


# The blocking objects patch_select removes, and the selectors built on them.
_SELECT_REMOVED = ("epoll", "devpoll", "kqueue", "kevent")
_SELECTORS_REMOVED = ("EpollSelector", "DevpollSelector", "KqueueSelector")


def patch_select():
    """Replace select.select and select.poll; remove epoll and friends."""
    if "select" in _done:
        return
    import select
    from pyhost.tasklets import select as green
    _patch(select, "select", green.select)
    _patch(select, "poll", green.poll)
    for name in _SELECT_REMOVED:
        _remove(select, name)
    _done.add("select")


def patch_selectors():
    """Make the selectors module wait through pyhost.select."""
    if "selectors" in _done:
        return
    import selectors
    from pyhost.tasklets import select as green
    _patch(selectors.SelectSelector, "_select", staticmethod(green.select))
    _patch(selectors.PollSelector, "_selector_cls", green.poll)
    for name in _SELECTORS_REMOVED:
        _remove(selectors, name)
    _patch(selectors, "DefaultSelector", selectors.PollSelector)
    _done.add("selectors")


def patch_ssl():
    """Route every SSLContext.wrap_socket through pyhost.ssl."""
    if "ssl" in _done:
        return
    import ssl
    from pyhost.tasklets import ssl as green
    _patch(ssl.SSLContext, "sslsocket_class", green.SSLSocket)
    _patch(ssl, "SSLSocket", green.SSLSocket)
    _done.add("ssl")


def patch_time():
    """time.sleep parks the tasklet."""
    if "time" in _done:
        return
    import pyhost
    _patch(_time, "sleep", pyhost.sleep)
    _done.add("time")


def patch_thread():
    """Make the threading module's waits cooperative (see the module
    docstring); threads themselves stay OS threads."""
    if "thread" in _done:
        return
    _patch(_threading, "_allocate_lock", CooperativeLock)
    _patch(_threading, "Lock", CooperativeLock)
    # The C RLock waits inside C; the Python one is built on _allocate_lock.
    _patch(_threading, "RLock", _threading._PyRLock)
    _done.add("thread")


# The real lock type, taken before any patch.
_real_allocate_lock = _threading._allocate_lock
# Polling interval bounds for a waiter whose lock is released by another
# OS thread (which cannot switch to it): it re-checks at most this often.
_POLL_MIN = 0.0005
_POLL_MAX = 0.005


def _can_park():
    """True when the current greenlet may park: this thread's main greenlet
    or a pyhost tasklet (never the hub itself or a foreign greenlet)."""
    import greenlet
    from pyhost import tasklets
    current = greenlet.getcurrent()
    return current.parent is None or isinstance(current, tasklets.tasklet)


class CooperativeLock:
    """A ``threading.Lock`` whose blocking acquire parks the tasklet.

    The lock itself is a real lock, so it still excludes OS threads.  A
    waiting tasklet is woken at once when a tasklet of its own thread
    releases the lock, and re-checks every few milliseconds for a release
    by another OS thread (which cannot switch to it).  Waiting is the hub's
    timed park (park(key, timeout) and wake), the primitive pyhost's
    channel, join and sleep are built on: a wake-up that finds the waiter
    gone (its park timed out first) is refused, never blocks the releaser.
    """

    __slots__ = ("_lock", "_waiters", "__weakref__")

    def __init__(self):
        self._lock = _real_allocate_lock()
        # (thread ident, greenlet, park key) per parked waiter, oldest
        # first.  Touched by the owning threads under the GIL only.
        self._waiters = collections.deque()

    def acquire(self, blocking=True, timeout=-1):
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking "
                             "call")
        from pyhost.tasklets import _deadline
        deadline = None if timeout == -1 else _deadline.deadline(timeout)
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        if not _can_park():
            return self._lock.acquire(True, timeout)
        import greenlet
        from pyhost.tasklets import _hub
        hub = _hub.get_hub()
        delay = _POLL_MIN
        while True:
            wait = delay
            left = _deadline.left(deadline)
            if left is not None:
                if left == 0:
                    return self._lock.acquire(False)
                wait = min(wait, left)
            entry = (_threading.get_ident(), greenlet.getcurrent(),
                     object())
            self._waiters.append(entry)
            try:
                # A release in this thread wakes us with True; else the
                # park times out and we poll for a release by another
                # OS thread.
                hub.park(entry[2], wait)
            finally:
                self._waiters.remove(entry)
            if self._lock.acquire(False):
                return True
            delay = min(delay * 2, _POLL_MAX)

    def release(self):
        self._lock.release()
        me = _threading.get_ident()
        for ident, waiter, key in self._waiters:
            if ident == me:
                from pyhost.tasklets import _hub
                if _hub.get_hub().wake(waiter, key, True):
                    break

    def locked(self):
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def _at_fork_reinit(self):
        self._lock = _real_allocate_lock()
        self._waiters.clear()

    def __repr__(self):
        state = "locked" if self._lock.locked() else "unlocked"
        return f"<{state} pyhost.monkey.CooperativeLock at {id(self):#x}>"


def patch_all(socket=True, select=True, selectors=True, ssl=True, time=True,
              thread=True):
    """Apply the patches named by the true arguments (all by default)."""
    if socket:
        patch_socket()
    if select:
        patch_select()
    if selectors:
        patch_selectors()
    if ssl:
        patch_ssl()
    if time:
        patch_time()
    if thread:
        patch_thread()
