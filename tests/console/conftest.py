# SPDX-License-Identifier: MIT
"""Fixtures for the console tests: a running console and its client."""
import pytest

from pyhost import console

from console_helpers import Client


@pytest.fixture
def client():
    url = console.start(sample_interval=0)
    try:
        yield Client(url)
    finally:
        console.stop()
