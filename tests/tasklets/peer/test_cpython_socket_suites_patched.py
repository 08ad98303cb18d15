# SPDX-License-Identifier: MIT
"""The peer suite: CPython's own test_socket, test_select and test_selectors
run with pyhost.monkey.patch_all() applied, on each hub backend.

Each run is a fresh interpreter (peer_runner.py) because patch_all changes
the stdlib for the whole process.  A run passes when no test fails or errs,
each test pyhost disables carries a reason, and the disabled list has no
stale entry.
docs/hub-peers.md has the counts next to gevent's (peer_report.py)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from testenv import scaled

HERE = Path(__file__).resolve().parent

# (module, fewest tests a healthy run executes, wall-clock limit in s)
MODULES = [
    pytest.param("test_select", 5, 120, id="test_select"),
    pytest.param("test_selectors", 100, 300, id="test_selectors"),
    pytest.param("test_socket", 600, 600, id="test_socket",
                 marks=pytest.mark.slow),
]


def run_peer(module, backend, tmp_path, limit):
    out = tmp_path / f"{module}-{backend}.json"
    proc = subprocess.run(
        [sys.executable, str(HERE / "peer_runner.py"), module,
         "--impl", "pyhost", "--backend", backend, "--json", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
        timeout=scaled(limit))
    if backend == "uring" and "cannot be set up" in proc.stderr:
        pytest.skip("io_uring cannot be set up here")
    assert out.exists(), proc.stdout + proc.stderr[-5000:]
    return json.loads(out.read_text()), proc


@pytest.mark.parametrize("backend", ["uring", "epoll"])
@pytest.mark.parametrize("module,min_ran,limit", MODULES)
def test_peer_suite(module, min_ran, limit, backend, tmp_path):
    summary, proc = run_peer(module, backend, tmp_path, limit)
    broken = [name for name, _ in summary["failures"] + summary["errors"]]
    assert not broken, (broken, proc.stderr[-8000:])
    assert not summary["unexpected_successes"]
    assert summary["ran"] >= min_ran, summary["ran"]
    assert not summary["unknown_disabled"], \
        "disabled.py names tests that do not exist"
    assert proc.returncode == 0


def test_disabled_list_gives_reasons():
    sys.path.insert(0, str(HERE))
    try:
        from disabled import disabled_tests
    finally:
        sys.path.remove(str(HERE))
    for module in ("test_socket", "test_select", "test_selectors"):
        for name, why in disabled_tests(module).items():
            assert name.count(".") <= 1 and why.strip(), (module, name)
