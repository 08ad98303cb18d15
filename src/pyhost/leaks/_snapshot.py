# SPDX-License-Identifier: MIT
"""Snapshots of the heap and the difference between two of them.

A snapshot keeps, per gc-tracked object, one 8-byte identity key (address
plus a 3-bit tag of the type), the census by type, and the orphans and
external holds of that moment as Findings.  Findings hold their objects, so
an old orphan cannot die and hand its address to a new one: "new orphan"
and "new external hold" are exact.  For the other objects a snapshot holds
nothing, so "new object of a grown type" can be wrong in one case only: an
object freed after the old snapshot whose address a new object of a type
with the same tag reused is taken for old (so it is not offered as a
sample; the growth counts themselves are exact).
"""
import gc
import time
import weakref

from . import _graph
from . import _report
from ._scan import (DEFAULT_RANK_LIMIT, _check_int, _register_own_type,
                    scan_both)
from ._scan import census as _census


@_register_own_type
class Snapshot:
    """The heap at one moment; compare two with diff()."""

    __slots__ = ("census", "keys", "orphans", "held", "objects", "time",
                 "__weakref__")

    def __init__(self, census, keys, orphans, held, objects, when):
        self.census = census      # {type: (count, bytes)}
        self.keys = keys          # sorted identity keys (bytes)
        self.orphans = orphans    # [Finding]
        self.held = held          # [Finding]
        self.objects = objects    # number of gc-tracked objects
        self.time = when

    def __repr__(self):
        return (f"<Snapshot {self.objects:,} objects, "
                f"{len(self.orphans)} orphans, "
                f"{len(self.held)} external holds>")


@_register_own_type
class TypeGrowth:
    """One type that grew between two snapshots."""

    __slots__ = ("type", "count", "bytes", "count_delta", "bytes_delta",
                 "samples")

    def __init__(self, tp, count, nbytes, count_delta, bytes_delta):
        self.type = tp
        self.count = count
        self.bytes = nbytes
        self.count_delta = count_delta
        self.bytes_delta = bytes_delta
        self.samples = []

    def __repr__(self):
        return (f"<TypeGrowth {_report.type_name(self.type)} "
                f"+{self.count_delta} (+{self.bytes_delta} bytes)>")


@_register_own_type
class Diff:
    """What changed from one snapshot to the next."""

    __slots__ = ("old", "new", "grown", "new_orphans", "new_held")

    def __init__(self, old, new, grown, new_orphans, new_held):
        self.old = old
        self.new = new
        self.grown = grown              # [TypeGrowth], most bytes first
        self.new_orphans = new_orphans  # [Finding]
        self.new_held = new_held        # [(Finding, excess_delta)]

    def __bool__(self):
        return bool(self.grown or self.new_orphans or self.new_held)

    def report(self, top=10):
        """Return the readable report (str)."""
        return _format_diff(self, top)

    def to_dict(self, top=50):
        """Return a JSON-ready dict."""
        return {
            "objects_before": self.old.objects,
            "objects_after": self.new.objects,
            "grown": [{
                "type": _report.type_name(g.type),
                "count": g.count, "count_delta": g.count_delta,
                "bytes": g.bytes, "bytes_delta": g.bytes_delta,
                "samples": [_report.describe(s, 120) for s in g.samples],
            } for g in self.grown[:top]],
            "new_orphans": [_report.finding_dict(f)
                            for f in self.new_orphans[:top]],
            "new_held": [dict(_report.finding_dict(f), excess_delta=d)
                         for f, d in self.new_held[:top]],
            "baseline_orphans": len(self.old.orphans),
            "baseline_held": len(self.old.held),
        }

    def __repr__(self):
        return (f"<Diff {len(self.grown)} grown types, "
                f"{len(self.new_orphans)} new orphans, "
                f"{len(self.new_held)} new external holds>")


# Snapshots alive: the census of a new one leaves out their containers.
_LIVE = weakref.WeakSet()


def snapshot(*, rank_limit=DEFAULT_RANK_LIMIT):
    """Take a Snapshot of the heap (one walk, no gc.collect())."""
    # No list of all objects held here across the scan: it would hold the
    # f_locals snapshots the scan reads, and the scan could not free them.
    orphans, held = scan_both(None, rank_limit=rank_limit)
    objects = gc.get_objects()
    try:
        census = _census(objects)
        keys = _graph.identities(objects)
        for other in list(_LIVE):
            # each holds two lists (orphans, held) and a dict (census)
            for tp, n in ((list, 2), (dict, 1)):
                count, nbytes = census.get(tp, (0, 0))
                if count >= n:
                    census[tp] = (count - n, nbytes)
        s = Snapshot(census, keys, orphans, held, len(objects), time.time())
        _LIVE.add(s)
        return s
    finally:
        del objects


def diff(old, new, *, samples=3, sample_types=20):
    """Compare two snapshots (old first).  Return a Diff.

    samples: how many new objects to pick for each of the sample_types
    types that grew most; they are picked among live objects that new saw
    and old did not.
    """
    for name, s in (("old", old), ("new", new)):
        if not isinstance(s, Snapshot):
            raise TypeError(
                f"{name} must be a Snapshot, not {type(s).__name__}")
    _check_int("samples", samples, 0, 1 << 32)
    _check_int("sample_types", sample_types, 0, 1 << 32)
    grown = []
    for tp, (count, nbytes) in new.census.items():
        old_count, old_bytes = old.census.get(tp, (0, 0))
        if count > old_count:
            grown.append(TypeGrowth(tp, count, nbytes, count - old_count,
                                    nbytes - old_bytes))
    grown.sort(key=lambda g: (g.bytes_delta, g.count_delta), reverse=True)
    if samples and grown and sample_types:
        # A few spare picks: the containers of live snapshots are new lists
        # and dicts too, and are no sample of anything.
        own = {id(c) for s in list(_LIVE)
               for c in (s.orphans, s.held, s.census)}
        picked = _graph.new_objects(
            old.keys, new.keys, tuple(g.type for g in grown[:sample_types]),
            samples + 2 * len(own))
        for g in grown[:sample_types]:
            g.samples = [o for o in picked.get(g.type, [])
                         if id(o) not in own][:samples]
        del picked
    # Old findings hold their objects alive: ids cannot have been reused.
    old_orphans = {id(f.obj) for f in old.orphans if f.obj is not None}
    new_orphans = [f for f in new.orphans if id(f.obj) not in old_orphans]
    old_held = {id(f.obj): f.excess for f in old.held}
    new_held = []
    for f in new.held:
        delta = f.excess - old_held.get(id(f.obj), 0)
        if delta > 0:
            new_held.append((f, delta))
    new_held.sort(key=lambda fd: (fd[0].kept_bytes, fd[1]), reverse=True)
    return Diff(old, new, grown, new_orphans, new_held)


def growth(since, **kwargs):
    """diff(since, snapshot()): what grew since the snapshot since."""
    if not isinstance(since, Snapshot):
        raise TypeError(
            f"since must be a Snapshot, not {type(since).__name__}")
    now = snapshot()
    return diff(since, now, **kwargs)


def _split(items, obj_of):
    data, machinery = [], []
    for it in items:
        (machinery if _report.is_machinery(obj_of(it)) else data).append(it)
    return data, machinery


def _machinery_line(items, obj_of, what):
    kinds = {}
    for it in items:
        name = _report.type_name(type(obj_of(it)))
        kinds[name] = kinds.get(name, 0) + 1
    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:5]
    return (f"  + {len(items)} {what} on interpreter machinery, usually "
            "held by C on purpose (" +
            ", ".join(f"{n} {k}" for k, n in top) + ")")


def _format_diff(d, top):
    out = []
    orphans, orphan_machinery = _split(d.new_orphans, lambda f: f.obj)
    held, held_machinery = _split(d.new_held, lambda fd: fd[0].obj)
    if d.new_orphans:
        out.append(f"New orphans: {len(orphans)} (gc-tracked objects that "
                   "no other object refers to: a reference lost in C)")
        if orphans:
            rows = [[_report.kept(f), _report.type_name(type(f.obj)),
                     _report.describe(f.obj)] for f in orphans[:top]]
            out.append(_report.table(rows, ["keeps alive", "type", "object"]))
        if orphan_machinery:
            out.append(_machinery_line(orphan_machinery, lambda f: f.obj,
                                       "more"))
    if d.new_held:
        out.append(f"New external holds: {len(held)} (objects with more "
                   "references than the heap explains: a missing Py_DECREF, "
                   "or a C global)")
        if held:
            rows = []
            for f, delta in held[:top]:
                rows.append([f"+{delta}", _report.kept(f),
                             _report.type_name(type(f.obj)),
                             _report.describe(f.obj, 40), _held_path(f.obj)])
            out.append(_report.table(
                rows, ["excess", "keeps alive", "type", "object",
                       "reached as"]))
        if held_machinery:
            out.append(_machinery_line(held_machinery, lambda fd: fd[0].obj,
                                       "more"))
    if d.grown:
        total = sum(g.count_delta for g in d.grown)
        out.append(f"Types that grew: {len(d.grown)} (+{total:,} gc-tracked "
                   "objects)")
        rows = [[f"+{g.count_delta:,}",
                 f"+{_report.human_bytes(g.bytes_delta)}",
                 _report.type_name(g.type),
                 ", ".join(_report.describe(s, 24) for s in g.samples)]
                for g in d.grown[:top]]
        out.append(_report.table(rows, ["objects", "bytes", "type",
                                        "new ones, e.g."]))
    if not out:
        out.append("Nothing new: no orphan, no external hold, no type grew.")
    out.append(f"Baseline (not shown): {len(d.old.orphans)} orphans and "
               f"{len(d.old.held)} external holds existed before; a plain "
               "interpreter has hundreds.")
    return "\n".join(out)


def _held_path(obj):
    from ._scan import backref_chain
    try:
        chain = backref_chain(obj, max_depth=12)
    except Exception:
        return "?"
    if chain is None:
        return "(no path from a module)"
    try:
        return _report.path_of(chain)
    finally:
        del chain
