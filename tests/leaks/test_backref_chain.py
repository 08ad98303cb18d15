# SPDX-License-Identifier: MIT
"""backref_chain(): the shortest chain of referrers from a root."""
import sys

import pytest

from pyhost import leaks

REGISTRY = {"users": [{"name": "ada", "tags": ["x"]}]}


def test_chain_from_this_module():
    target = REGISTRY["users"][0]["tags"]
    chain = leaks.backref_chain(target)
    assert chain[-1] is target
    assert chain[0] is sys.modules[__name__]
    assert REGISTRY in chain
    # each step refers to the next
    import gc
    for a, b in zip(chain, chain[1:]):
        assert any(r is b for r in gc.get_referents(a))
    path = leaks._report.path_of(chain)
    assert path.endswith("REGISTRY['users'][0]['tags']"), path


def test_chain_to_an_untracked_object():
    REGISTRY["token"] = "tok-" + str(id(REGISTRY))
    chain = leaks.backref_chain(REGISTRY["token"])
    assert chain is not None and chain[-1] is REGISTRY["token"]


def test_explicit_roots_and_depth():
    a = {"b": {"c": ["deep"]}}
    target = a["b"]["c"]
    assert leaks.backref_chain(target, roots=[a]) == [a, a["b"], target]
    assert leaks.backref_chain(target, roots=[a], max_depth=1) is None
    assert leaks.backref_chain(a, roots=[a]) == [a]


def test_unreachable_gives_none():
    lonely = ["nobody refers to me"]
    assert leaks.backref_chain(lonely, roots=[[1, 2]]) is None


def test_orphan_has_no_chain(ledger):
    oid = ledger.make_orphan(2)
    f = next(f for f in leaks.orphans(rank_limit=0) if id(f.obj) == oid)
    assert leaks.backref_chain(f.obj) is None


@pytest.mark.parametrize("kwargs, exc, msg", [
    ({"max_depth": -1}, ValueError, "max_depth must be >= 0"),
    ({"max_depth": "3"}, TypeError, "max_depth must be an int"),
    ({"roots": 5}, TypeError, "roots must be an iterable"),
    ({"roots": "abc"}, TypeError, "roots must be an iterable"),
])
def test_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        leaks.backref_chain([], **kwargs)


def test_backref_chain_to_an_unwalkable_target():
    """The chain to a str (an object without tp_traverse) is exact: the
    search records containers and the target only, and max_depth bounds
    it."""
    text = "needle-" + str(id(test_backref_chain_to_an_unwalkable_target))
    root = {"a": [1, 2, {"deep": ("t", text)}]}
    chain = leaks.backref_chain(text, roots=[root])
    assert chain is not None
    assert chain[0] is root and chain[-1] is text
    assert [type(x) for x in chain] == [dict, list, dict, tuple, str]
    assert leaks.backref_chain(text, roots=[root], max_depth=3) is None
    del chain
