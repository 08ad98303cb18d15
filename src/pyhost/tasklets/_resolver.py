# SPDX-License-Identifier: MIT
"""Blocking calls on worker threads, so the hub never blocks.

``call_in_thread(func, *args)`` parks the current tasklet while a small
pool of real OS threads (made with ``_thread``, so a monkey-patched
``threading`` cannot turn them into tasklets) runs ``func``; the worker
wakes the tasklet through the hub's eventfd.  Name resolution
(``getaddrinfo`` and friends) goes through it, numeric hosts excepted.
"""

import _socket
import _thread
import collections

from socket import AddressFamily as _AddressFamily
from socket import SocketKind as _SocketKind

from . import _hub

_MAX_WORKERS = 8

_lock = _thread.allocate_lock()
_jobs = collections.deque()
_idle = []          # one lock per idle worker, released to hand it a job
_workers = 0


def _worker(wakeup):
    global _workers
    while True:
        with _lock:
            job = _jobs.popleft() if _jobs else None
            if job is None:
                _idle.append(wakeup)
        if job is None:
            wakeup.acquire()  # released by _submit
            continue
        func, args, hub, g, key = job
        del job
        try:
            outcome = (True, func(*args))
        except BaseException as exc:  # handed to the waiting tasklet
            # Without this thread's traceback: its frames hold the call's
            # arguments, which must not outlive the call (the stdlib
            # functions keep no reference to them).
            outcome = (False, exc.with_traceback(None))
        del func, args  # before the tasklet can run again
        hub.job_done(g, key, outcome)
        del hub, g, key, outcome


def _submit(job):
    global _workers
    with _lock:
        _jobs.append(job)
        if _idle:
            _idle.pop().release()
            return
        if _workers >= _MAX_WORKERS:
            return
        _workers += 1
    wakeup = _thread.allocate_lock()
    wakeup.acquire()
    _thread.start_new_thread(_worker, (wakeup,))


def call_in_thread(func, *args):
    """Run func(*args) on a worker thread; park until it returns.

    Returns its result or raises its exception.  If the waiting tasklet is
    interrupted (Timeout, kill), the job still runs to its end; its result
    is dropped.
    """
    import greenlet
    hub = _hub.get_hub()
    g = greenlet.getcurrent()
    key = object()
    hub.job_begin()
    _submit((func, args, hub, g, key))
    del func, args  # the job holds them; this frame must not (see _worker)
    ok, value = hub.park(key)
    if ok:
        return value
    try:
        raise value
    finally:
        del value


def _is_numeric(host):
    if host is None:
        return True
    if isinstance(host, bytes):
        try:
            host = host.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(host, str):
        return True  # let the real call raise the TypeError
    try:
        _socket.inet_pton(_socket.AF_INET, host)
        return True
    except (OSError, ValueError):
        pass
    try:
        _socket.inet_pton(_socket.AF_INET6, host.split("%", 1)[0])
        return True
    except (OSError, ValueError):
        return False


# The functions below end with `del` of their arguments: a failing call's
# traceback keeps its frames, and a frame would otherwise keep the
# arguments alive for as long as the exception lives.

def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """socket.getaddrinfo, with AddressFamily/SocketKind members like the
    stdlib's wrapper; names are resolved on a worker thread."""
    try:
        if _is_numeric(host):
            infos = _socket.getaddrinfo(host, port, family, type, proto,
                                        flags)
        else:
            infos = call_in_thread(_socket.getaddrinfo, host, port, family,
                                   type, proto, flags)
    finally:
        del host, port
    return [(_family(af), _kind(kind), proto, canonname, sa)
            for af, kind, proto, canonname, sa in infos]


def _family(value):
    try:
        return _AddressFamily(value)
    except ValueError:
        return value


def _kind(value):
    try:
        return _SocketKind(value)
    except ValueError:
        return value


def gethostbyname(hostname):
    try:
        if isinstance(hostname, str) and _is_numeric(hostname):
            return _socket.gethostbyname(hostname)
        return call_in_thread(_socket.gethostbyname, hostname)
    finally:
        del hostname


def gethostbyname_ex(hostname):
    try:
        return call_in_thread(_socket.gethostbyname_ex, hostname)
    finally:
        del hostname


def gethostbyaddr(ip_address):
    try:
        return call_in_thread(_socket.gethostbyaddr, ip_address)
    finally:
        del ip_address


def getnameinfo(sockaddr, flags):
    try:
        return call_in_thread(_socket.getnameinfo, sockaddr, flags)
    finally:
        del sockaddr
