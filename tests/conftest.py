# SPDX-License-Identifier: MIT
"""Shared pytest set-up: where test artifacts go, and the sanitizer flag."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

# Set by .ci/test-all for the ASan+UBSan run: timing-sensitive assertions
# (responsiveness bounds) widen under it, never disappear.
SANITIZED = os.environ.get("PYHOST_SANITIZED") == "1"


@pytest.fixture
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
