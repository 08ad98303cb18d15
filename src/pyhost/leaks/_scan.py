# SPDX-License-Identifier: MIT
"""The scans of pyhost.leaks: thin wrappers around pyhost._graph.

Each wrapper leaves out what the scan itself brings along: the frames of
the calling thread's stack, the containers the wrapper builds, the objects
of pyhost.leaks's own types (snapshots, diffs, check results) and every
Finding, whose references later scans discount.
"""
import gc
import sys

from . import _graph

Finding = _graph.Finding

# Types whose instances no scan reports (filled by the modules that define
# them); a list so that appending after import is seen by every scan.
_OWN_TYPES = []

DEFAULT_RANK_LIMIT = 10_000


def _register_own_type(cls):
    """Class decorator: instances are pyhost.leaks's own, never reported."""
    _OWN_TYPES.append(cls)
    return cls


_CO_OPTIMIZED = 0x1

# f_locals snapshot dicts (3.11/3.12) that reading f_locals created or
# refreshed and that nobody else holds: emptied after the scan, or they
# would keep the caller's locals alive (even deleted ones) until the
# function returns.  CPython refreshes such a dict before every use.
_PRIVATE_SNAPSHOTS = []


def _stack():
    """Return (exclude, frame_refs, walk_extra) for this thread's stack.

    exclude: the frames (materialized) and, on 3.11/3.12, the f_locals
    snapshot dicts that reading f_locals stores on them; frame_refs: the
    values of the frames' local variables, one item per reference, so
    that a scan counts those references as the caller's, not external;
    walk_extra: the snapshot dicts the gc does not track (atomic values),
    whose references a scan must still count.
    Cells are left out: a frame holds the cell, not its contents.  A
    running frame's temporaries (its value stack) stay invisible.
    """
    frames, refs, untracked = [], [], []
    f = sys._getframe(1)
    while f is not None:
        frames.append(f)
        code = f.f_code
        if code.co_flags & _CO_OPTIMIZED:
            loc = f.f_locals
            if type(loc) is dict:
                # the frame, loc, the argument, and findings that hold it
                if sys.getrefcount(loc) == 3 + _graph.hidden_count(loc):
                    _PRIVATE_SNAPSHOTS.append(loc)
                frames.append(loc)
                if not gc.is_tracked(loc):
                    untracked.append(loc)
            cells = code.co_cellvars + code.co_freevars
            for name, value in loc.items():
                if name not in cells:
                    refs.append(value)
            del loc
        f = f.f_back
    return tuple(frames), tuple(refs), tuple(untracked)


def _stack_frames():
    """The calling thread's frames, for scans that need no frame_refs.

    Reads no f_locals: orphans() must see the heap as gc.get_referents()
    does, snapshot dicts included.
    """
    frames = []
    f = sys._getframe(1)
    while f is not None:
        frames.append(f)
        f = f.f_back
    return tuple(frames)


def _check_int(name, value, minimum, maximum=None):
    """Raise TypeError unless value is an int (not a bool), ValueError
    unless minimum <= value (<= maximum)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, not {value}")


def _check_rank_limit(rank_limit):
    _check_int("rank_limit", rank_limit, 0, _graph.MAX_RANK_LIMIT)


def _sorted(findings):
    findings.sort(key=lambda f: (f.kept_bytes, f.kept_count, f.excess),
                  reverse=True)
    return findings


def _run_scan(objects, want_orphans, want_held, rank_limit):
    """One _graph.scan() with this thread's stack left out.

    The exclude tuple holds this very frame: it is deleted before
    returning, or the frame and the tuple would keep each other (and
    every caller frame) alive as a reference cycle.
    """
    if want_held:
        exclude, frame_refs, walk_extra = _stack()
    else:
        exclude, frame_refs, walk_extra = _stack_frames(), (), ()
    try:
        return _graph.scan(objects, orphans=want_orphans, held=want_held,
                           exclude=exclude, exclude_types=tuple(_OWN_TYPES),
                           rank_limit=rank_limit, frame_refs=frame_refs,
                           walk_extra=walk_extra)
    finally:
        del exclude, frame_refs, walk_extra
        while _PRIVATE_SNAPSHOTS:
            _PRIVATE_SNAPSHOTS.pop().clear()


def scan_both(objects=None, *, rank_limit=DEFAULT_RANK_LIMIT):
    """Return (orphans, held) from one walk, each ranked."""
    _check_rank_limit(rank_limit)
    orphans, held = _run_scan(objects, True, True, rank_limit)
    return _sorted(orphans), _sorted(held)


def orphans(objects=None, *, rank_limit=DEFAULT_RANK_LIMIT):
    """Return the gc-tracked objects that no gc-tracked object refers to.

    The posts' algorithm (objgraph.get_leaking_objects()) in one C walk.
    objects: the list to scan instead of gc.get_objects(); each object at
    most once.  Returns a list of Finding (``.obj``, ``.excess``,
    ``.kept_count``, ``.kept_bytes``), the object keeping the most bytes
    alive first; rank_limit bounds that ranking walk per finding (0: no
    ranking, the order is then the heap's).
    """
    _check_rank_limit(rank_limit)
    if objects is not None and not isinstance(objects, list):
        raise TypeError(
            f"objects must be a list or None, not {type(objects).__name__}")
    found, _ = _run_scan(objects, True, False, rank_limit)
    return _sorted(found)


def held_externally(*, rank_limit=DEFAULT_RANK_LIMIT):
    """Return objects holding more references than the heap accounts for.

    Covers every gc-tracked object and every object one of them refers to
    (str, int, float, bytes, untracked tuples and dicts included): each
    whose reference count exceeds the references found in gc-tracked
    objects, with ``.excess`` the difference.  A missing Py_DECREF shows
    here even when the object is also referenced normally.  References
    from code objects, heap type names and the local variables of the
    calling thread's frames count as found.  The rest of the excess is
    legitimate: C globals and module state, other threads' frames, the
    temporaries of running frames.  Immortal objects (3.12+) are skipped.
    """
    _check_rank_limit(rank_limit)
    _, held = _run_scan(None, False, True, rank_limit)
    return _sorted(held)


def census(objects=None):
    """Return {type: (count, bytes)} over the gc-tracked objects.

    bytes is the shallow size estimated from each type's layout (list and
    set payloads included; dict tables and __sizeof__ overrides not).
    """
    if objects is not None and not isinstance(objects, list):
        raise TypeError(
            f"objects must be a list or None, not {type(objects).__name__}")
    counts = _graph.census(objects)
    for tp in (Finding, *_OWN_TYPES):
        counts.pop(tp, None)
    return counts


def backref_chain(obj, roots=None, max_depth=20):
    """Return the shortest chain [root, ..., obj] of references, or None.

    Breadth-first in C from roots (default: every module in sys.modules),
    following at most max_depth references.
    """
    _check_int("max_depth", max_depth, 0, sys.maxsize)
    if roots is None:
        roots = [m for m in list(sys.modules.values()) if m is not None]
    elif isinstance(roots, (str, bytes)) or not hasattr(roots, "__iter__"):
        raise TypeError("roots must be an iterable of objects, not "
                        f"{type(roots).__name__}")
    else:
        roots = list(roots)
    return _graph.backref_chain(obj, roots, max_depth,
                                tuple(_OWN_TYPES))
