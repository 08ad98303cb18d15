# SPDX-License-Identifier: MIT
"""Bad input to the public API and to the C module: clear errors, no crash."""
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
     "exclude_types must be a tuple"),
    (lambda: _graph.scan(exclude_types=(1,)), TypeError,
     "exclude_types must hold only types"),
    (lambda: _graph.scan(rank_limit=-1), ValueError, "rank_limit"),
    (lambda: _graph.scan(frame_refs=[1]), TypeError, "tuple"),
    (lambda: _graph.scan(walk_extra=[1]), TypeError, "tuple"),
    (lambda: _graph.scan(bogus=1), TypeError, "bogus"),
    (lambda: _graph.census(objects=(1,)), TypeError, "must be a list"),
    (lambda: _graph.identities({}), TypeError, "must be a list"),
    (lambda: _graph.new_objects(b"abc", None, (), 1), TypeError,
     "old must be bytes from identities"),
    (lambda: _graph.new_objects(b"", 5, (), 1), TypeError,
     "new must be bytes"),
    (lambda: _graph.new_objects(b"", None, (1,), 1), TypeError,
     "types must hold only types"),
    (lambda: _graph.new_objects(b"", None, (), -1), ValueError, "limit"),
    (lambda: _graph.backref_chain(1, (1,), 3), TypeError, "list"),
    (lambda: _graph.backref_chain(1, [], -1), ValueError, "max_depth"),
    (lambda: _graph.is_interned(5), TypeError, "expects a str"),
])
def test_c_module_bad_arguments(call, exc, msg):
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
