# SPDX-License-Identifier: MIT
"""check(): regrtest -R style runs around a callable."""
import gc
import os
import subprocess
import sys
import textwrap
import tracemalloc

import pytest

from pyhost import leaks
from pyhost._testing import _leaky

STORE = {"sessions": [[]]}
CACHE = {}
LEAKED = []


def clean():
    x = [1, 2, 3]
    return len(x)


def leaks_a_new_list():
    obj = ["lost", object()]
    _leaky.leak_ref(obj)
    LEAKED.append(id(obj))


def leaks_a_ref_on_a_global():
    _leaky.leak_ref(STORE["sessions"])
    LEAKED.append(None)


def fills_a_cache_once():
    CACHE.setdefault("k", [object() for _ in range(50)])


def test_clean_callable_is_clean():
    r = leaks.check(clean)
    assert not r and r.leaked == []
    assert "no leak found" in r.report()


def test_cache_that_fills_once_is_not_a_leak():
    CACHE.clear()
    r = leaks.check(fills_a_cache_once)
    assert not r, r.report()


def test_leaking_callable_is_flagged():
    r = None
    try:
        r = leaks.check(leaks_a_new_list, runs=3, warmup=2)
        assert r
        assert "memory blocks" in r.leaked
        assert "external refs" in r.leaked
        assert all(d >= 1 for d in r.deltas["external refs"])
        text = r.report()
        assert "LEAKS" in text
        assert "New orphans: 3" in text
        assert "'lost'" in text
        orphans = {id(f.obj) for f in r.diff.new_orphans}
        assert len(orphans & set(LEAKED)) == 3
    finally:
        # r's samples refer to the leaked lists: they are orphans again
        # once r is gone, and only orphans can be found to be released.
        del r
        _release_lists()


def _release_lists():
    """Release every reference the leaking callables took.  The lists are
    found as orphans, so whatever else referred to them (a check result's
    samples, in a reference cycle) must be gone first."""
    gc.collect()
    ids = {i for i in LEAKED if i is not None}
    for f in leaks.orphans(rank_limit=0):
        if id(f.obj) in ids:
            _leaky.release(f.obj)
    n = LEAKED.count(None)
    for _ in range(n):
        _leaky.release(STORE["sessions"])
    LEAKED.clear()


def test_extra_reference_on_an_existing_object_is_flagged():
    # No allocation at all: only the external reference count can see it.
    r = leaks.check(leaks_a_ref_on_a_global)
    try:
        assert r.leaked == ["external refs"], r.report()
        assert all(d >= 1 for d in r.deltas["external refs"])
        held = {id(f.obj): d for f, d in r.diff.new_held}
        assert held[id(STORE["sessions"])] == 3
        assert "STORE" in r.report() or "sessions" in r.report()
    finally:
        _release_lists()


def test_tracemalloc_lines_are_reported():
    r = None
    tracemalloc.start()
    try:
        r = leaks.check(leaks_a_new_list, runs=2, warmup=1)
        assert r
        lines = {(os.path.basename(t.traceback[0].filename),
                  t.traceback[0].lineno) for t in r.traces}
        report = r.report()
    finally:
        tracemalloc.stop()
        del r
        _release_lists()
    here = os.path.basename(__file__)
    assert (here, leaks_a_new_list.__code__.co_firstlineno + 1) in lines
    assert "Allocated by (tracemalloc" in report


def test_arguments_are_passed():
    seen = []
    r = leaks.check(seen.append, 5, runs=2, warmup=1)
    assert seen == [5, 5, 5]
    assert not r


@pytest.mark.parametrize("kwargs, exc, msg", [
    ({"runs": 0}, ValueError, "runs must be >= 1"),
    ({"runs": "3"}, TypeError, "runs must be an int"),
    ({"warmup": -1}, ValueError, "warmup must be >= 0"),
    ({"warmup": 1.5}, TypeError, "warmup must be an int"),
])
def test_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        leaks.check(clean, **kwargs)


def test_not_callable():
    with pytest.raises(TypeError, match="func must be callable"):
        leaks.check(42)


def test_exception_in_func_propagates():
    def boom():
        raise KeyError("from func")
    with pytest.raises(KeyError, match="from func"):
        leaks.check(boom)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"),
                    reason="file descriptors are counted in /proc/self/fd")
def test_fd_leak_is_flagged():
    fds = []
    r = leaks.check(lambda: fds.append(os.open(os.devnull, os.O_RDONLY)),
                    runs=2, warmup=1)
    for fd in fds:
        os.close(fd)
    assert "file descriptors" in r.leaked
