# SPDX-License-Identifier: MIT
"""Robustness: odd tp_traverse, objects dying during set-up, scans inside
gc callbacks, big heaps, and results that keep nothing alive."""
import gc
import sys
import weakref

import pytest

from pyhost import leaks
from pyhost._testing import _leaky


def _scans():
    leaks.orphans()
    leaks.held_externally()
    leaks.census()
    leaks.snapshot()


def test_traverse_visiting_null_and_twice(held):
    item = ["inside", "bad", "traverse"]
    box = _leaky.BadTraverse(item)
    held["box"] = box
    text = "str-in-bad-" + str(id(box))
    held["box2"] = _leaky.BadTraverse(text)
    counts = [sys.getrefcount(o) for o in (item, box, text)]
    # The collector cannot survive this traverse: keep it away meanwhile.
    gc.disable()
    _leaky.set_bad_traverse(True)
    try:
        for _ in range(3):
            _scans()
        found = {id(f.obj): f.excess for f in leaks.held_externally()}
    finally:
        _leaky.set_bad_traverse(False)
        gc.enable()
    assert [sys.getrefcount(o) for o in (item, box, text)] == counts
    # item has one reference (box) and two visits: no excess, no crash
    assert id(item) not in found
    del box


def test_objects_dying_during_setup():
    # Set-up allocates: finalizers, weakref callbacks and gc callbacks may
    # run then, and may create and drop objects; nothing they do may reach
    # the walk.
    events = []

    class Dies:
        def __del__(self):
            junk = [[i] for i in range(100)]
            events.append(len(junk))

    def on_gc(phase, info):
        tmp = {"phase": phase, "x": [1]}
        events.append(tmp["phase"])

    def cb(ref):
        events.append("weakref")

    gc.callbacks.append(on_gc)
    try:
        for _ in range(20):
            a, b = Dies(), Dies()
            a.other, b.other = b, a          # cyclic garbage, with __del__
            target = Dies()
            r = weakref.ref(target, cb)
            del a, b, target
            gc.collect(0)
            _scans()
        gc.collect()
    finally:
        gc.callbacks.remove(on_gc)
    assert "weakref" in events and "start" in events and 100 in events
    assert r() is None


def test_scan_inside_a_gc_callback():
    results = []

    def on_gc(phase, info):
        if phase == "stop" and not results:
            results.append(len(leaks.orphans(rank_limit=0)))
            results.append(len(leaks.held_externally(rank_limit=0)))

    gc.callbacks.append(on_gc)
    try:
        garbage = [[]]
        garbage[0].append(garbage)
        del garbage
        gc.collect()
    finally:
        gc.callbacks.remove(on_gc)
    assert len(results) == 2 and results[0] > 0 and results[1] > 0


PROBE = ["probe"]


def test_results_keep_nothing_alive():
    gc.collect()
    assert gc.garbage == []
    obj = PROBE
    rc = sys.getrefcount(obj)
    for _ in range(3):
        found = leaks.held_externally() + leaks.orphans()
        snap = leaks.snapshot()
        d = leaks.diff(snap, leaks.snapshot())
        d.report()
        chain = leaks.backref_chain(obj)
        del found, snap, d, chain
    assert sys.getrefcount(obj) == rc
    assert gc.collect() == 0        # the scans left no reference cycle
    assert gc.garbage == []


def test_a_finding_does_not_outlive_its_list():
    class Probe:
        pass
    p = Probe()
    held_ref = weakref.ref(p)
    sys.modules[__name__].PROBE_HOLDER = [p]
    _leaky.leak_ref(p)
    try:
        found = [f for f in leaks.held_externally() if f.obj is p]
        assert found and found[0].excess == 1
        del found
    finally:
        _leaky.release(p)
        del sys.modules[__name__].PROBE_HOLDER
    del p
    assert held_ref() is None


def test_counts_restored_on_every_object(held):
    # Tracked and untracked objects, shared, nested and cyclic: each count
    # is back after each scan.
    shared = "shared-" + str(id(held))
    data = [[i, shared, (i, "t"), {"k": i}, {"k": [i]}, float(i), 10**20 + i]
            for i in range(5000)]
    cyc = [data]
    cyc.append(cyc)
    held["data"] = data
    held["cyc"] = cyc
    objs = [o for row in data for o in row] + [data, cyc, shared]
    # 3.11's static objects (small ints, 1-char strings) start near 1e9
    # and move with any code that runs: the scans never touch them.
    objs = [o for o in objs if sys.getrefcount(o) < 1 << 28]
    before = [sys.getrefcount(o) for o in objs]
    _scans()
    after = [sys.getrefcount(o) for o in objs]
    changed = [(type(objs[i]), before[i], after[i])
               for i in range(len(objs)) if before[i] != after[i]]
    assert changed == []


def test_callers_locals_are_not_kept_alive():
    class Probe:
        pass
    p = Probe()
    r = weakref.ref(p)
    leaks.held_externally()
    leaks.snapshot()
    del p
    assert r() is None


@pytest.mark.slow
def test_heap_of_several_million_objects(ledger):
    heap = [[i] for i in range(3_000_000)]
    oid = ledger.make_orphan(1000)
    found = leaks.orphans()
    assert oid in {id(f.obj) for f in found}
    assert found[0].kept_count >= 1
    held = leaks.held_externally(rank_limit=100)
    assert oid in {id(f.obj) for f in held}
    counts = leaks.census()
    assert counts[list][0] >= 3_000_000
    assert [sys.getrefcount(heap[i]) for i in (0, 1_500_000, -1)] == [2] * 3
    del heap, found, held
