# SPDX-License-Identifier: MIT
"""Shared pytest set-up: where test artifacts go.  The sanitizer flag and
the slow-down helper are in testenv.py (importable from every test)."""
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
