# SPDX-License-Identifier: MIT
"""pyhost.leaks: find the objects that C code leaked, fast.

Scans (one C walk over tp_traverse each, no gc.collect(), no Python code
run while walking):

- orphans(): gc-tracked objects no gc-tracked object refers to;
- held_externally(): objects, str/int/float and untracked ones included,
  with more references than the heap accounts for, and by how many;
- census(): count and bytes by type;
- backref_chain(obj): the shortest chain of references from a module.

Every finding is ranked by what it keeps alive.  A plain interpreter
already has hundreds of orphans and external holds, so compare:
snapshot() / diff(old, new) / growth(since), or check(func) which runs a
callable the way regrtest -R does.  ``python -m pyhost.leaks SCRIPT`` runs a
script and reports; ``pytest -p pyhost.leaks.pytest_plugin --leaks`` checks tests.
"""
from ._check import CheckResult, check
from ._scan import (Finding, backref_chain, census, held_externally,
                    orphans)
from ._snapshot import Diff, Snapshot, TypeGrowth, diff, growth, snapshot

__all__ = [
    "orphans", "held_externally", "census", "backref_chain",
    "snapshot", "diff", "growth", "check",
    "Finding", "Snapshot", "Diff", "TypeGrowth", "CheckResult",
]
