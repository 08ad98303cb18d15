# SPDX-License-Identifier: MIT
"""Fixtures for the pyhost.leaks tests: the leaking test extension, and a
ledger that releases every reference a test leaked on purpose."""
import gc
import sys

import pytest

from pyhost._testing import _leaky

# A module global the tests hang leaked objects on, so that the objects are
# referenced from the heap (a gc-tracked dict) as well as by the lost
# reference.  The list keeps the dict tracked: a dict of atomic values is
# not, and the references of an untracked dict count as external.
HELD = {"_keeps_it_tracked": []}


class Ledger:
    """Leaks references through _leaky and releases them at teardown."""

    def __init__(self):
        self.refs = []
        self.orphan_ids = set()

    def leak_ref(self, obj):
        _leaky.leak_ref(obj)
        self.refs.append(obj)
        return obj

    def make_orphan(self, n):
        """Lose a list of n one-element lists; return its id()."""
        oid = _leaky.make_orphan(n)
        self.orphan_ids.add(oid)
        return oid

    def release_all(self):
        from pyhost import leaks

        if self.orphan_ids:
            lost = [f.obj for f in leaks.orphans(rank_limit=0)
                    if id(f.obj) in self.orphan_ids]
            for obj in lost:
                _leaky.release(obj)
            del lost
            self.orphan_ids.clear()
        for obj in self.refs:
            _leaky.release(obj)
        self.refs.clear()


@pytest.fixture
def ledger():
    led = Ledger()
    yield led
    led.release_all()
    HELD.clear()
    HELD["_keeps_it_tracked"] = []
    gc.collect()


@pytest.fixture
def held():
    """A dict that a module global holds: objects put in it are referenced
    from the heap as well as by whatever a test leaks."""
    return HELD


@pytest.fixture
def leaky():
    return _leaky


def refcounts(objs):
    """sys.getrefcount of each object, as a list (for before/after)."""
    return [sys.getrefcount(o) for o in objs]
