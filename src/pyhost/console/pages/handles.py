# SPDX-License-Identifier: MIT
"""The console's table of opaque object handles."""
import secrets
import threading
import time
import weakref

from .common import HTTPError
from .saferepr import type_name

HANDLES_MAX = 5000        # handle table size (least recently used go first)
STRONG_MAX = 1000         # handles that keep a non-weakrefable object alive
STRONG_TTL = 300.0        # seconds such a handle keeps its object alive
SWEEP_INTERVAL = 1.0      # seconds between scans for expired strong handles


class Handles:
    """Opaque handles for objects shown on pages.

    A handle is a random string; the table maps it to a weak reference, or,
    for objects that cannot be weakly referenced (dicts, lists, tuples...),
    to a strong one that expires after STRONG_TTL seconds.  A number from a
    URL is never turned into an object: an unknown handle is 404, a handle
    whose object died (or expired) is 410.
    """

    def __init__(self):
        # handle -> (weakref or None, strong object or None, expiry, type),
        # least recently used first.  A plain dict, not an OrderedDict:
        # the latter's links hold its keys where no scan can see them, so
        # pyhost.leaks would report the handles as held from C.
        self.table = {}
        self.by_id = {}   # id(obj) -> handle; checked by identity on use
        self.strong = 0
        self.next_sweep = 0.0
        # Protects everything above: the GIL worker renders pages while
        # the application's threads call pyhost.console.object_url(), and
        # a thread switch inside a scan would otherwise meet a table that
        # changed size.  Reentrant: a collection triggered inside may run a
        # __del__ that asks for a handle on the same thread.  No user code
        # runs while it is held.
        self.lock = threading.RLock()

    def handle(self, obj):
        """The handle of obj, made on first use."""
        with self.lock:
            return self._handle(obj)

    def _handle(self, obj):
        self._expire()
        h = self.by_id.get(id(obj))
        if h is not None and h in self.table:
            try:
                if self._get(self.table[h]) is obj:
                    self._touch(h)
                    return h
            except HTTPError:
                pass
        h = secrets.token_urlsafe(12)
        try:
            entry = (weakref.ref(obj), None, None, type_name(type(obj)))
        except TypeError:
            entry = (None, obj, time.monotonic() + STRONG_TTL,
                     type_name(type(obj)))
            self.strong += 1
        self.table[h] = entry
        self.by_id[id(obj)] = h
        self._trim()
        return h

    def _trim(self):
        while len(self.table) > HANDLES_MAX or self.strong > STRONG_MAX:
            # Oldest first; strong entries go first when over their cap.
            victim = next(iter(self.table))
            if self.strong > STRONG_MAX:
                victim = next((h for h, e in self.table.items()
                               if e[1] is not None), victim)
            entry = self.table.pop(victim)
            if entry[1] is not None:
                self.strong -= 1
        if len(self.by_id) > 2 * HANDLES_MAX:
            self.by_id = {k: h for k, h in self.by_id.items()
                          if h in self.table}

    def _expire(self):
        """Let go of the objects whose strong handle expired (a scan of the
        table, at most every SWEEP_INTERVAL seconds): the console must not
        keep them alive past STRONG_TTL, or it would hide the very leaks it
        shows.  The entry stays as a tombstone, so the handle still answers
        410 rather than 404."""
        now = time.monotonic()
        if now < self.next_sweep:
            return
        self.next_sweep = now + SWEEP_INTERVAL
        expired = []
        for h, entry in self.table.items():
            if entry[1] is not None and entry[2] < now:
                expired.append(h)
        for h in expired:
            _ref, _strong, expires, tname = self.table[h]
            self.table[h] = (None, None, expires, tname)
            self.strong -= 1

    def _get(self, entry):
        ref, strong, expires, tname = entry
        if ref is not None:
            obj = ref()
            if obj is None:
                raise HTTPError(410, f"object gone: the {tname} this handle "
                                      "named has been freed")
            return obj
        if time.monotonic() > expires:
            raise HTTPError(410, f"handle expired: the console kept this "
                                  f"{tname} alive for {STRONG_TTL:.0f} s only")
        return strong

    def _touch(self, h):
        """Move h to the most recently used end."""
        self.table[h] = self.table.pop(h)

    def resolve(self, h):
        """The object handle h names: HTTPError 404 or 410 if none."""
        with self.lock:
            return self._resolve(h)

    def _resolve(self, h):
        entry = self.table.get(h)
        if entry is None:
            raise HTTPError(404, "unknown object handle (handles are made "
                                  "by the console's pages; they never name "
                                  "addresses)")
        try:
            obj = self._get(entry)
        except HTTPError:
            if entry[1] is not None:
                self.strong -= 1
            del self.table[h]
            raise
        self._touch(h)
        return obj

    def own_objects(self):
        """The gc-tracked objects of the table itself (left out of what the
        pages report)."""
        with self.lock:
            own = [self, self.__dict__, self.table, self.by_id]
            for entry in self.table.values():
                own.append(entry)
                if entry[0] is not None:
                    own.append(entry[0])
            return own

    def stats(self):
        with self.lock:
            self._expire()
            now = time.monotonic()
            kept = sum(1 for e in self.table.values()
                       if e[1] is not None and e[2] > now)
        return {"handles": len(self.table), "kept_alive": kept,
                "kept_alive_ttl_s": STRONG_TTL}
