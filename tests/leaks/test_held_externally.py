# SPDX-License-Identifier: MIT
"""held_externally(): references no gc-tracked object accounts for."""
import sys

import pytest

from pyhost import leaks



def _excess_of(obj, findings=None):
    findings = leaks.held_externally() if findings is None else findings
    for f in findings:
        if f.obj is obj:
            return f.excess
    return 0


def test_extra_ref_on_a_list_a_global_holds(ledger, held):
    held["sessions"] = [["user-1", 1]]
    assert _excess_of(held["sessions"]) == 0
    ledger.leak_ref(held["sessions"])
    assert _excess_of(held["sessions"]) == 1
    ledger.leak_ref(held["sessions"])
    assert _excess_of(held["sessions"]) == 2


@pytest.mark.parametrize("make", [
    lambda: "user-" + str(id(object())),       # a str made at run time
    lambda: 7 * 10**30 + id(object()),         # a big int
    lambda: id(object()) / 3.0,                # a float
    lambda: bytes(range(40)),                  # bytes
])
def test_extra_ref_on_untracked_objects(ledger, make, held):
    held["value"] = make()
    value = held["value"]
    del value
    assert _excess_of(held["value"]) == 0
    ledger.leak_ref(held["value"])
    assert _excess_of(held["value"]) == 1


def test_untracked_tuple_and_dict_are_covered(ledger, held):
    held["t"] = tuple([1, 2, "x"])
    held["d"] = {"a": 1}
    import gc
    gc.collect()    # lets the collector untrack the atomic tuple
    assert not gc.is_tracked(held["t"])
    assert not gc.is_tracked(held["d"])
    ledger.leak_ref(held["t"])
    ledger.leak_ref(held["d"])
    found = leaks.held_externally()
    assert _excess_of(held["t"], found) == 1
    assert _excess_of(held["d"], found) == 1


def test_each_finder_finds_its_kind(ledger, held):
    held["lst"] = [1, 2]
    held["s"] = "held-" + str(id(ledger))
    ledger.leak_ref(held["lst"])
    ledger.leak_ref(held["s"])
    oid = ledger.make_orphan(4)
    orphans = {id(f.obj) for f in leaks.orphans()}
    excess = {id(f.obj): f.excess for f in leaks.held_externally()}
    assert oid in orphans
    assert id(held["lst"]) not in orphans
    assert id(held["s"]) not in orphans
    assert excess[id(held["lst"])] == 1
    assert excess[id(held["s"])] == 1
    assert excess[oid] == 1   # a lost reference is an excess too


@pytest.mark.skipif(sys.version_info < (3, 12),
                    reason="immortal objects exist from 3.12 (PEP 683)")
def test_immortal_objects_are_skipped(ledger, held):
    held["none"] = None
    ledger.leak_ref(None)       # a no-op on an immortal object
    found = leaks.held_externally()
    assert all(f.obj is not None for f in found)
    assert all(f.obj is not True and f.obj is not Ellipsis
               for f in found)


def test_refs_from_code_objects_are_not_external():
    # Names and constants of functions live in code objects, which the gc
    # does not track: they must not show up as external holds.
    def f():
        return "a-constant-of-this-test-function"
    found = {f.obj for f in leaks.held_externally()
             if type(f.obj) is str}
    assert "a-constant-of-this-test-function" not in found


def test_counts_come_back_exactly(ledger, held):
    held["objs"] = objs = [
        [1], {"k": [2]}, (3, 4), "s-" + str(id(ledger)), 10**40, 1.5,
        {"atomic": 1}, bytearray(b"x")]
    rc = [sys.getrefcount(o) for o in objs]
    leaks.held_externally()
    leaks.orphans()
    leaks.snapshot()
    assert [sys.getrefcount(o) for o in objs] == rc


def test_bad_arguments():
    with pytest.raises(TypeError):
        leaks.held_externally(5)
    with pytest.raises(ValueError, match="rank_limit"):
        leaks.held_externally(rank_limit=-3)
