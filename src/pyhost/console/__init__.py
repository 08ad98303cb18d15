# SPDX-License-Identifier: MIT
"""pyhost.console: the live console, a diagnostics web page served from C
inside the process.

``start()`` returns the URL to open (it carries the access token).  The HTTP
server, the security checks and the pages that need no GIL (Process,
Responsiveness) are C, in ``pyhost.console._server``; the pages that need
Python live in ``pyhost.console.pages`` and run on the console's one GIL worker
thread, each as HTML and as JSON under ``/api/``.  See docs/console.md.

Rules every page follows: no page evaluates code; every name and repr is
escaped and truncated (:func:`safe_repr`); objects are named by opaque
handles from a table this module keeps, never by ``id()`` or an address;
lists are paginated; the console's own objects are left out of the census;
``gc.collect()`` runs only when the GC page's button asks for it.
"""
import atexit
import collections
import os
import threading

from . import _server
from .pages import dispatch, memory
from .pages.handles import Handles
from .pages.saferepr import safe_repr

__all__ = ["start", "stop", "url", "object_url", "safe_repr"]

_lock = threading.Lock()  # serialises start() and stop()
_state = None             # the running console's _State, or None


# ---------------------------------------------------------------- public API

def start(host="127.0.0.1", port=0, token=None, *, deadline=1.0,
          sample_interval=10.0, stall_threshold=0.1):
    """Start the console; return its URL, token included.

    host: a numeric address or "localhost" (loopback by default; anything
    else exposes the heap of this process to that network, token or not).
    port: 0 picks a free port.  token: None makes a random one from the OS's
    secure generator.  deadline: seconds a Python page may wait for the GIL
    and run before it answers 503.  sample_interval: seconds between memory
    census samples (0: no sampling).  stall_threshold: GIL waits at least
    this long are listed as stalls.
    """
    global _state
    with _lock:
        if _state is not None:
            raise RuntimeError(f"the console already runs at {url()}")
        st = _State()
        port, tok, csrf = _server.start(
            _handle, _sample if sample_interval else None,
            host=host, port=port, token=token, deadline=deadline,
            sample_interval=sample_interval,
            stall_threshold=stall_threshold)
        st.host, st.port, st.token, st.csrf = host, port, tok, csrf
        _state = st
    return url()


def stop():
    """Stop the console (nothing happens if it does not run).  RuntimeError
    when called from the console's own thread (say, from a __repr__ one of
    its pages runs): that thread cannot wait for itself."""
    global _state
    _server._check_not_worker()   # before the lock: stop() may hold it
    with _lock:
        _server.stop()
        _state = None


def url():
    """The running console's URL with its token, or None."""
    st = _state
    if st is None:
        return None
    host = f"[{st.host}]" if ":" in st.host else st.host
    return f"http://{host}:{st.port}/?token={st.token}"


def object_url(obj):
    """The path of obj's page on the running console ("/object/HANDLE"), for
    an application that wants to point a developer at one object (in a log
    line, say).  The handle is opaque and holds obj weakly where its type
    allows.  RuntimeError when the console does not run."""
    st = _state
    if st is None:
        raise RuntimeError("the console does not run; call start() first")
    return f"/object/{st.handles.handle(obj)}"


def _forget_in_child():
    """After fork(), in the child: the server's threads did not come along;
    close its inherited socket and consider the console stopped."""
    global _state, _lock
    _server._after_fork_child()
    _state = None
    # Another thread may have held the lock at the fork; it does not exist
    # here, so the child would hang in stop() at exit.
    _lock = threading.Lock()


atexit.register(stop)
os.register_at_fork(after_in_child=_forget_in_child)


# --------------------------------------------------------------- the state

class _State:
    """What a running console keeps.  Touched only by the GIL worker (and
    start/stop), so the GIL protects it; except handles, which
    object_url() uses from any thread and which has a lock of its own."""

    def __init__(self):
        self.host = self.token = self.csrf = None
        self.port = 0
        self.handles = Handles()
        self.history = collections.deque(maxlen=memory.HISTORY_MAX)
        self.snapshot_census = None   # {type name: count} at the snapshot
        self.snapshot_time = None
        self.leaks_snapshot = None    # pyhost.leaks.snapshot() result
        self.last_collect = None      # (when, collected, seconds)

    def own_objects(self):
        """The gc-tracked objects the console itself holds, so a census
        or a leak report can leave them out.  (Plain loops: a generator
        expression here would put self in a cell on every call.)"""
        own = [self, self.__dict__, self.history]
        own.extend(self.handles.own_objects())
        for sample in self.history:
            own.append(sample)
            own.append(sample[1])
        if self.snapshot_census is not None:
            own.append(self.snapshot_census)
        return own


def _handle(method, path, args):
    """The GIL worker calls this for every request that needs Python."""
    st = _state
    if st is None:
        return 503, "text/plain; charset=utf-8", b"503 console stopping\n"
    return dispatch.handle(st, method, path, args)


def _sample():
    """The GIL worker calls this every sample_interval seconds."""
    st = _state
    if st is not None:
        memory.sample(st)
