# SPDX-License-Identifier: MIT
"""census(), snapshot(), diff() and growth()."""
import gc

import objgraph
import pytest

from pyhost import leaks


class Widget:
    pass


def test_census_counts_by_type():
    keep = [Widget() for _ in range(123)]
    counts = leaks.census()
    assert counts[Widget][0] == 123
    assert counts[Widget][1] >= 123 * leaks._scan._graph.sizeof(keep[0])
    del keep


def test_census_agrees_with_typestats():
    gc.collect()
    objects = gc.get_objects()
    ours = {t.__name__: n for t, (n, _) in leaks.census(objects).items()}
    theirs = objgraph.typestats(objects)
    del objects
    for name in ("list", "dict", "function", "tuple"):
        # typestats merges same-named types; ours are exact types
        assert ours[name] <= theirs[name]
        assert ours[name] >= theirs[name] * 0.9


def test_census_leaves_out_its_own_types():
    s = leaks.snapshot()
    counts = leaks.census()
    assert leaks.Finding not in counts
    assert leaks.Snapshot not in counts
    del s


def test_diff_reports_new_orphans_holds_and_growth(ledger, held):
    old = leaks.snapshot()
    oid = ledger.make_orphan(50)
    held["lst"] = ledger.leak_ref(["session", 1])
    held["widgets"] = [Widget() for _ in range(40)]
    new = leaks.snapshot()
    d = leaks.diff(old, new)
    assert oid in {id(f.obj) for f in d.new_orphans}
    deltas = {id(f.obj): delta for f, delta in d.new_held}
    assert deltas[id(held["lst"])] == 1
    grown = {g.type: g for g in d.grown}
    assert grown[Widget].count_delta == 40
    assert len(grown[Widget].samples) == 3
    assert all(type(s) is Widget for s in grown[Widget].samples)
    assert grown[list].count_delta >= 51
    text = d.report()
    assert "New orphans: 1" in text
    assert "Widget" in text and "+40" in text
    assert "SESSION" not in text and "'session'" in text
    js = d.to_dict()
    assert js["grown"][0]["count_delta"] > 0


def test_diff_of_a_quiet_heap_is_empty():
    gc.collect()
    a = leaks.snapshot()
    b = leaks.snapshot()
    d = leaks.diff(a, b)
    assert not d.new_orphans
    assert not [fd for fd in d.new_held
                if not leaks._report.is_machinery(fd[0].obj)]


def test_old_orphans_stay_old_after_they_die(ledger):
    # A snapshot's findings hold their objects, so an address seen as an
    # orphan cannot be handed to a new orphan while the snapshot lives.
    oid = ledger.make_orphan(2)
    old = leaks.snapshot()
    assert oid in {id(f.obj) for f in old.orphans}
    ledger.release_all()            # C "fixes" the leak: the list may die
    oid2 = ledger.make_orphan(2)    # a new orphan, maybe at a reused spot
    new = leaks.snapshot()
    assert oid2 != oid              # old snapshot kept the address busy
    assert oid2 in {id(f.obj) for f in leaks.diff(old, new).new_orphans}


def test_growth_since():
    old = leaks.snapshot()
    keep = [Widget() for _ in range(7)]
    d = leaks.growth(old)
    grown = {g.type: g.count_delta for g in d.grown}
    assert grown[Widget] == 7
    del keep


def test_snapshots_do_not_change_what_scans_see(ledger):
    oid = ledger.make_orphan(3)
    s = leaks.snapshot()
    f = next(f for f in leaks.orphans() if id(f.obj) == oid)
    assert f.excess == 1          # not 2: the snapshot's hold is hidden
    del s, f


@pytest.mark.parametrize("args, exc, msg", [
    ((1, 2), TypeError, "old must be a Snapshot"),
    ((None, None), TypeError, "old must be a Snapshot"),
])
def test_diff_bad_input(args, exc, msg):
    with pytest.raises(exc, match=msg):
        leaks.diff(*args)


def test_diff_bad_options():
    s = leaks.snapshot()
    with pytest.raises(TypeError, match="new must be a Snapshot"):
        leaks.diff(s, {})
    with pytest.raises(ValueError, match="samples"):
        leaks.diff(s, s, samples=-1)
    with pytest.raises(TypeError, match="samples"):
        leaks.diff(s, s, samples="3")
    with pytest.raises(TypeError, match="since must be a Snapshot"):
        leaks.growth(42)
