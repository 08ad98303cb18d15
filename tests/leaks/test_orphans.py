# SPDX-License-Identifier: MIT
"""orphans(): the posts' algorithm, in C; parity with objgraph."""
import gc

import objgraph
import pytest

from pyhost import leaks
from pyhost.leaks import _graph


def _ids(findings):
    return {id(f.obj) for f in findings}


def test_lost_container_is_an_orphan(ledger):
    oid = ledger.make_orphan(10)
    found = [f for f in leaks.orphans() if id(f.obj) == oid]
    assert len(found) == 1
    f = found[0]
    assert type(f.obj) is list and len(f.obj) == 10
    assert f.excess == 1            # the reference C lost
    # kept alive: the list, its 10 inner lists and their ints >= 256 (none)
    assert f.kept_count == 11
    assert f.kept_complete


def test_held_list_is_not_an_orphan(ledger, held):
    held["sessions"] = ledger.leak_ref([1, 2, 3])
    assert id(held["sessions"]) not in _ids(leaks.orphans())


@pytest.mark.leakcheck_off(
    reason="objgraph counts the leak check's live Findings as referrers")
def test_same_set_as_objgraph_on_the_same_heap(ledger):
    """orphans() finds exactly the objects objgraph.get_leaking_objects()
    finds on the same heap (which must hold no live Finding: scans
    discount what Findings hold, objgraph sees them as referrers)."""
    ledger.make_orphan(3)
    ledger.make_orphan(5)
    gc.collect()
    gc.disable()
    try:
        objects = gc.get_objects()
        expected = {id(o) for o in objgraph.get_leaking_objects(objects)}
        got = _ids(leaks.orphans(objects, rank_limit=0))
    finally:
        gc.enable()
        del objects
    assert got == expected
    assert len(got) > 2


def test_biggest_leak_ranks_first(ledger):
    small = ledger.make_orphan(5)
    big = ledger.make_orphan(10_000)
    found = leaks.orphans(rank_limit=20_000)
    order = [id(f.obj) for f in found]
    assert order.index(big) < order.index(small)
    top = found[order.index(big)]
    # the list, its 10,000 lists and their ints above the small-int cache
    assert 10_001 + 9_000 < top.kept_count <= 10_001 + 9_744
    assert top.kept_complete
    assert top.kept_bytes > 10_000 * 56
    # sorted by what each keeps alive, most first
    kept = [f.kept_bytes for f in found]
    assert kept == sorted(kept, reverse=True)


def test_rank_limit_gives_a_lower_bound(ledger):
    oid = ledger.make_orphan(1000)
    f = next(f for f in leaks.orphans(rank_limit=50) if id(f.obj) == oid)
    assert not f.kept_complete
    assert 1 <= f.kept_count <= 50


def test_rank_limit_zero_skips_ranking(ledger):
    oid = ledger.make_orphan(100)
    f = next(f for f in leaks.orphans(rank_limit=0) if id(f.obj) == oid)
    assert f.kept_count == 1


def test_objects_subset_semantics():
    a, b, c = [], [], []
    a.append(b)
    # Among [a, b, c] only b is referred to (by a).
    got = {id(f.obj) for f in leaks.orphans([a, b, c])}
    assert got == {id(a), id(c)}


@pytest.mark.parametrize("bad", [(), "abc", {1: 2}, 3])
def test_objects_must_be_a_list(bad):
    with pytest.raises(TypeError, match="objects must be a list or None"):
        leaks.orphans(bad)


def test_duplicate_objects_are_refused_and_counts_restored():
    x, y = [], []
    before = [gc.get_referrers, len(gc.get_objects())]
    rc = [__import__("sys").getrefcount(o) for o in (x, y)]
    with pytest.raises(ValueError, match="same object twice"):
        leaks.orphans([x, y, x])
    assert [__import__("sys").getrefcount(o) for o in (x, y)] == rc
    del before


@pytest.mark.parametrize("limit, exc", [(-1, ValueError), (1.5, TypeError),
                                        ("10", TypeError),
                                        (True, TypeError)])
def test_bad_rank_limit(limit, exc):
    with pytest.raises(exc, match="rank_limit"):
        leaks.orphans(rank_limit=limit)


def test_findings_are_not_creatable():
    with pytest.raises(TypeError):
        leaks.Finding()


def test_exclude_converted_by_the_scan_is_not_an_orphan():
    """exclude given as a set: the scan turns it into a list of its own,
    which nothing refers to; that list is the scan's, not a finding."""
    orphans, _ = _graph.scan(exclude={1, 2}, rank_limit=0)
    own = [f for f in orphans
           if type(f.obj) is list and f.obj in ([1, 2], [2, 1])]
    assert own == []
    del orphans
