# SPDX-License-Identifier: MIT
"""Regression tests from the review of the scan: each input below once
left reference counts wrong, hung the process or reported the scan's own
containers."""
import gc
import subprocess
import sys

import pytest

from pyhost import leaks
from pyhost.leaks import _graph


def test_frame_refs_claiming_too_many_references_is_refused():
    # The scan discounts each frame_refs item twice (the tuple and the
    # frame).  Claiming more references than the object has used to leave
    # a negative count that the last pass took for a mark and "restored"
    # by adding 2**50.
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
    # An honest claim is still accepted.
    _graph.scan(held=True, frame_refs=(value,), rank_limit=0)
    assert sys.getrefcount(value) == before


@pytest.mark.parametrize("limit", [2 ** 62 + 1, _graph.MAX_RANK_LIMIT + 1])
def test_huge_rank_limit_is_refused(limit):
    # 2**62 + 1 made the ranking table's size loop forever.
    with pytest.raises(ValueError, match="rank_limit"):
        _graph.scan([[]], rank_limit=limit)
    with pytest.raises(ValueError, match="rank_limit must be <="):
        leaks.orphans(rank_limit=limit)
    with pytest.raises(ValueError, match="rank_limit must be <="):
        leaks.held_externally(rank_limit=2 ** 70)


def test_exclude_converted_by_the_scan_is_not_an_orphan():
    # exclude given as a set: the scan turns it into a new list of its
    # own, which no object refers to; it is the scan's, not a finding.
    marker = ["marker"]
    orphans, _ = _graph.scan(exclude={1, 2}, rank_limit=0)
    own = [f for f in orphans
           if type(f.obj) is list and f.obj in ([1, 2], [2, 1])]
    assert own == []
    del orphans, marker


def test_backref_chain_to_an_unwalkable_target():
    # The search records containers only (and the target), so the chain
    # to a str stays exact.
    text = "needle-" + str(id(test_backref_chain_to_an_unwalkable_target))
    root = {"a": [1, 2, {"deep": ("t", text)}]}
    chain = leaks.backref_chain(text, roots=[root])
    assert chain is not None
    assert chain[0] is root and chain[-1] is text
    assert [type(x) for x in chain] == [dict, list, dict, tuple, str]
    assert leaks.backref_chain(text, roots=[root], max_depth=3) is None
    del chain


def test_bad_int_arguments_name_the_argument():
    with pytest.raises(ValueError, match="max_depth must be <="):
        leaks.backref_chain([], max_depth=2 ** 70)
    old = leaks.snapshot()
    with pytest.raises(ValueError, match="samples must be <="):
        leaks.diff(old, old, samples=2 ** 70)
    del old
    gc.collect()


def test_cli_prints_an_exit_message(tmp_path):
    # sys.exit("message") prints the message, as the interpreter does.
    script = tmp_path / "bye.py"
    script.write_text("import sys\nsys.exit('bye from the script')\n")
    p = subprocess.run([sys.executable, "-m", "pyhost.leaks", str(script)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert "bye from the script" in p.stderr
    assert "Baseline" in p.stdout
