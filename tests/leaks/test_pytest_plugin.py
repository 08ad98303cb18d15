# SPDX-License-Identifier: MIT
"""The pytest plugin: -p pyhost.leaks.pytest_plugin --leaks."""
import subprocess
import sys

TESTS = '''
from pyhost._testing import _leaky

GLOBAL = [[]]


def test_clean():
    assert sum([1, 2]) == 3


def test_leaky():
    obj = ["leaked-by-test", object()]
    _leaky.leak_ref(obj)


def test_cache_once(cache={}):
    cache.setdefault("k", [object() for _ in range(10)])
'''


def run_pytest(tmp_path, *args):
    (tmp_path / "test_sample.py").write_text(TESTS)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "pyhost.leaks.pytest_plugin", *args, "test_sample.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_leaking_test_fails_with_the_report(tmp_path):
    p = run_pytest(tmp_path, "--leaks=2:3")
    out = p.stdout
    assert p.returncode == 1, out + p.stderr
    assert "1 failed, 2 passed" in out
    assert "FAILED test_sample.py::test_leaky" in out
    assert "leak found by pyhost.leaks" in out
    assert "'leaked-by-test'" in out


def test_without_the_option_nothing_changes(tmp_path):
    p = run_pytest(tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 passed" in p.stdout


def test_default_spec(tmp_path):
    p = run_pytest(tmp_path, "--leaks", "-k", "clean or cache")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 passed" in p.stdout


def test_bad_spec(tmp_path):
    for bad in ("--leaks=x", "--leaks=3", "--leaks=1:0", "--leaks=-1:2"):
        p = run_pytest(tmp_path, bad)
        assert p.returncode == 4, (bad, p.stdout, p.stderr)
        assert "--leaks" in p.stderr
