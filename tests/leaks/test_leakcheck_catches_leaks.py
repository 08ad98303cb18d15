# SPDX-License-Identifier: MIT
"""The leak check of tests/leakcheck.py: it fails a test that leaks a hub
Timer, a tasklet or a container, says what survived and what holds it,
and leaves clean tests, tests marked leaks_on_purpose and tests outside
the checked folders alone.  Each case runs pytest in a subprocess on a
copy of tests/conftest.py and tests/leakcheck.py, so the leaks die with
that process."""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

try:
    import pyhost.tasklets   # imported here: an import makes C-held objects
except ImportError:
    HAVE_TASKLETS = False
else:
    HAVE_TASKLETS = True

TESTS = pathlib.Path(__file__).resolve().parents[1]

INI = """
[pytest]
addopts = -p no:cacheprovider --strict-markers
markers =
    leaks_on_purpose(reason): leaks on purpose
    leakcheck_off(reason): not checked
"""

LEAKY_TESTS = '''
import pytest

from pyhost import tasklets
from pyhost._testing import _leaky


def test_clean_hub_use():
    timer = tasklets.get_hub().call_later(3600, print)
    timer.cancel()
    tasklets.sleep(0)


def test_leaks_a_timer():
    timer = tasklets.get_hub().call_later(3600, print)
    timer.cancel()
    _leaky.leak_ref(timer)


def test_leaks_a_tasklet():
    _leaky.leak_ref(tasklets.tasklet(print))


def test_leaks_a_list():
    _leaky.leak_ref(["lost-by-the-test"])


@pytest.mark.leaks_on_purpose(reason="shows the opt-out")
def test_leaks_on_purpose():
    _leaky.leak_ref(["lost-on-purpose"])


@pytest.mark.leakcheck_off
def test_opt_out_without_a_reason():
    pass
'''


def run_pytest(tmp_path, folder, source):
    tests = tmp_path / "tests"
    (tests / folder).mkdir(parents=True)
    for name in ("conftest.py", "leakcheck.py"):
        (tests / name).write_text((TESTS / name).read_text())
    (tmp_path / "pytest.ini").write_text(INI)
    (tests / folder / "test_sample.py").write_text(textwrap.dedent(source))
    # The check is on in the subprocess even when this run turned it off.
    env = {k: v for k, v in os.environ.items() if k != "PYHOST_LEAKCHECK"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rE", "tests"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env)


@pytest.mark.skipif(not HAVE_TASKLETS, reason="pyhost.tasklets not built")
def test_leaks_are_reported_at_teardown(tmp_path):
    """Each leaking test errors at teardown with "leakcheck:" lines that
    name the survivor, its type and what holds it (here: nothing on the
    heap), and the count of hub Timers or greenlets that grew; the clean
    test and the one marked leaks_on_purpose pass (their call phase passes
    for the leaking ones too); an opt-out without a reason is refused."""
    p = run_pytest(tmp_path, "tasklets", LEAKY_TESTS)
    out = p.stdout
    assert p.returncode == 1, out + p.stderr
    assert "5 passed, 4 errors" in out, out
    errors = {line.split("::")[1].split()[0] for line in out.splitlines()
              if line.startswith("ERROR tests/")}
    assert errors == {"test_leaks_a_timer", "test_leaks_a_tasklet",
                      "test_leaks_a_list", "test_opt_out_without_a_reason"}
    assert ("leakcheck: 1 more pyhost.tasklets._hub.Timer alive than "
            "before the test") in out
    assert "leakcheck: 1 more greenlet.greenlet alive" in out
    assert "(type pyhost.tasklets._hub.Timer) survived the test" in out
    assert "(type pyhost.tasklets.tasklet) survived the test" in out
    assert ("['lost-by-the-test'] (type list) survived the test: "
            "1 reference(s) no object accounts for; no chain of references "
            "from any module") in out
    assert "lost-on-purpose" not in out
    assert "@pytest.mark.leakcheck_off needs a reason string" in out


def test_only_the_checked_folders_are_checked(tmp_path):
    """The same leak in a folder the check does not cover passes."""
    p = run_pytest(tmp_path, "demo", '''
        from pyhost._testing import _leaky

        def test_leaks_a_list():
            _leaky.leak_ref(["lost-by-the-test"])
    ''')
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 passed" in p.stdout
