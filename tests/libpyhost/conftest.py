# SPDX-License-Identifier: MIT
"""Fixtures for the embed tests (the launcher and libpyhost, installed)."""
import os
import pathlib
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import embedtools  # noqa: E402


@pytest.fixture(scope="session")
def launcher():
    assert embedtools.LAUNCHER.exists(), (
        "the pyhost launcher is not installed in %s: build with "
        "-Dparts=libpyhost" % embedtools.SCRIPTS)
    return embedtools.LAUNCHER


@pytest.fixture
def pth(tmp_path):
    """Make a path file naming the stdlib, lib-dynload and extra entries."""
    def make(*extra):
        return embedtools.base_pth(tmp_path, *extra)
    return make


@pytest.fixture
def launcher_copy(tmp_path, launcher):
    """A copy of the launcher in tmp/bin (for files planted beside it)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    copy = bindir / "pyhost"
    shutil.copy2(launcher, copy)
    return copy


@pytest.fixture(scope="session")
def capi_test(tmp_path_factory):
    """The C API test program (tests/libpyhost/capi_test.c), compiled."""
    out = tmp_path_factory.mktemp("capi") / "capi_test"
    src = pathlib.Path(__file__).with_name("capi_test.c")
    return embedtools.compile_c([src], out)
