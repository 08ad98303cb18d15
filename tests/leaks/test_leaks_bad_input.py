# SPDX-License-Identifier: MIT
"""Bad input to the public API and to the C module: clear errors, no crash."""
import gc
import sys

import pytest

from pyhost import leaks
from pyhost.leaks import _graph


def test_odd_objects_lists_do_not_crash():
    lst = [1, "a", None, int, sys, 2.5, (), b"x", leaks]
    found = leaks.orphans(lst)
    assert all(isinstance(f, leaks.Finding) for f in found)
    assert leaks.orphans([]) == []
    assert leaks.census([]) == {}
    counts = leaks.census([1, 2, "a"])
    assert counts[int][0] == 2 and counts[str][0] == 1


def test_a_list_that_holds_itself():
    lst = []
    lst.append(lst)
    assert leaks.orphans(lst) == []     # lst refers to itself


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: _graph.scan(5), TypeError, "objects must be a list or None"),
    (lambda: _graph.scan(exclude=5), TypeError, "exclude must be a sequence"),
    (lambda: _graph.scan(exclude_types=[int]), TypeError,
     r"scan\(\) argument (5|'exclude_types') must be tuple, not list"),
    (lambda: _graph.scan(exclude_types=(1,)), TypeError,
     "exclude_types must hold only types"),
    (lambda: _graph.scan(rank_limit=-1), ValueError,
     "rank_limit must be >= 0, not -1"),
    (lambda: _graph.scan(frame_refs=[1]), TypeError, "tuple"),
    (lambda: _graph.scan(walk_extra=[1]), TypeError, "tuple"),
    (lambda: _graph.scan(bogus=1), TypeError, "bogus"),
    (lambda: _graph.census(objects=(1,)), TypeError, "must be a list"),
    (lambda: _graph.identities({}), TypeError, "must be a list"),
    (lambda: _graph.new_objects(b"abc", None, (), 1), ValueError,
     "old must be bytes from identities"),
    (lambda: _graph.new_objects("", None, (), 1), TypeError,
     r"new_objects\(\) argument 1 must be bytes, not str"),
    (lambda: _graph.new_objects(b"", 5, (), 1), TypeError,
     r"new_objects\(\) argument 2 must be bytes or None, not int"),
    (lambda: _graph.new_objects(b"", None, [], 1), TypeError,
     r"new_objects\(\) argument 3 must be tuple, not list"),
    (lambda: _graph.new_objects(b"", None, ()), TypeError,
     r"new_objects\(\) takes exactly 4 arguments \(3 given\)"),
    (lambda: _graph.new_objects(b"", None, (1,), 1), TypeError,
     "types must hold only types"),
    (lambda: _graph.new_objects(b"", None, (), -1), ValueError,
     "limit must be >= 0, not -1"),
    (lambda: _graph.backref_chain(1, (1,), 3), TypeError,
     r"backref_chain\(\) argument 2 must be list, not tuple"),
    (lambda: _graph.backref_chain(1, [], 3, [int]), TypeError,
     r"backref_chain\(\) argument 4 must be tuple, not list"),
    (lambda: _graph.backref_chain(1, [], -1), ValueError,
     "max_depth must be >= 0, not -1"),
    (lambda: _graph.is_interned(5), TypeError,
     r"is_interned\(\) argument must be str, not int"),
])
def test_c_module_bad_arguments(call, exc, msg):
    """Each bad argument to pyhost.leaks._graph raises CPython's own
    message (PyArg) or, for a value out of range, the one message of that
    kind that the Python API uses too."""
    with pytest.raises(exc, match=msg):
        call()


def test_c_module_good_calls():
    keys = _graph.identities()
    assert len(keys) % 8 == 0 and len(keys) > 0
    fresh = [[1], [2], [3]]
    got = _graph.new_objects(keys, None, (list,), 10_000)[list]
    assert any(x is fresh or x is fresh[0] for x in got)
    assert _graph.new_objects(keys, keys, (list,), 10)[list] == []
    assert _graph.sizeof([]) > 0
    assert _graph.is_interned("__name__")
    assert not _graph.is_interned("not-" + str(id(keys)))


def test_frame_refs_claiming_too_many_references_is_refused():
    """A frame_refs tuple that claims more references to an object than it
    has is refused with ValueError, and every reference count is back to
    its value (the scan discounts each item twice, the tuple's and the
    frame's; too many would leave a negative count that the last pass
    took for a mark).  An honest claim is still accepted."""
    value = float(len(sys.argv) + 0.5)
    holder = [value]      # a gc-tracked referrer, so the walk visits value
    before = sys.getrefcount(value)
    claim = (value,) * 5
    with pytest.raises(ValueError, match="frame_refs claims more references "
                                         "to a float"):
        _graph.scan(held=True, frame_refs=claim, rank_limit=0)
    del claim
    assert sys.getrefcount(value) == before
    assert holder[0] is value
    _graph.scan(held=True, frame_refs=(value,), rank_limit=0)
    assert sys.getrefcount(value) == before


@pytest.mark.parametrize("limit", [2 ** 62 + 1, _graph.MAX_RANK_LIMIT + 1])
def test_huge_rank_limit_is_refused(limit):
    """A rank_limit above MAX_RANK_LIMIT (whose ranking table would not fit
    a size_t; 2**62 + 1 once sized it in an endless loop) is refused with
    the same message by the C module and by the Python API."""
    with pytest.raises(ValueError, match="rank_limit must be <="):
        _graph.scan([[]], rank_limit=limit)
    with pytest.raises(ValueError, match="rank_limit must be <="):
        leaks.orphans(rank_limit=limit)
    with pytest.raises(ValueError, match="rank_limit must be <="):
        leaks.held_externally(rank_limit=2 ** 70)


def test_bad_int_arguments_name_the_argument():
    """An int too large for C names the argument in a ValueError instead
    of an OverflowError about C types."""
    with pytest.raises(ValueError, match="max_depth must be <="):
        leaks.backref_chain([], max_depth=2 ** 70)
    old = leaks.snapshot()
    with pytest.raises(ValueError, match="samples must be <="):
        leaks.diff(old, old, samples=2 ** 70)
    del old
    gc.collect()
