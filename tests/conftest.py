# SPDX-License-Identifier: MIT
"""Shared pytest set-up: where test artifacts go, and the leak check over
the tests of pyhost's C extensions (leakcheck.py: its fixture and hooks
are imported here so that pytest runs them).  The sanitizer flag and the
slow-down helper are in testenv.py (importable from every test)."""
import pathlib

import pytest

from leakcheck import (  # noqa: F401  (pytest finds them here)
    leakcheck, pytest_runtest_protocol, pytest_sessionfinish)

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
