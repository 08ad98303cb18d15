# SPDX-License-Identifier: MIT
"""pytest plugin: run each test under pyhost.leaks.check().

    pytest -p pyhost.leaks.pytest_plugin --leaks            # 3 warm-up, 3 counted
    pytest -p pyhost.leaks.pytest_plugin --leaks=5:4        # WARMUP:RUNS

A test fails when a counter grew in every counted run; the failure shows
check()'s report (grown types with samples, new orphans, new external
holds).  Function-scoped fixtures are set up once and shared by the runs,
as with pytest-leaks and regrtest -R.
"""
import pytest


def _parse_spec(text):
    try:
        warmup, runs = (int(x) for x in text.split(":"))
    except ValueError:
        raise pytest.UsageError(
            f"--leaks expects WARMUP:RUNS (two integers), not {text!r}")
    if warmup < 0 or runs < 1:
        raise pytest.UsageError(
            f"--leaks: WARMUP must be >= 0 and RUNS >= 1, not {text!r}")
    return warmup, runs


def pytest_addoption(parser):
    group = parser.getgroup("pyhost.leaks")
    group.addoption("--leaks", nargs="?", const="3:3", default=None,
                    metavar="WARMUP:RUNS",
                    help="run each test several times and fail those that "
                         "leak in every counted run (default 3:3)")


def pytest_configure(config):
    spec = config.getoption("leaks")
    if spec is not None:
        config._pyhost_leaks = _parse_spec(spec)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    spec = getattr(item.config, "_pyhost_leaks", None)
    if spec is None:
        yield
        return
    from pyhost.leaks import check

    warmup, runs = spec
    original = item.runtest

    def runtest():
        result = check(original, warmup=warmup, runs=runs)
        if result:
            text = result.report()
            del result
            pytest.fail(f"leak found by pyhost.leaks:\n{text}",
                        pytrace=False)

    item.runtest = runtest
    try:
        yield
    finally:
        del item.runtest
