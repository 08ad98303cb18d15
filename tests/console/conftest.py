# SPDX-License-Identifier: MIT
"""Fixtures for the console tests: a running console and its client, and
deliberate leaks that are undone when the test ends."""
import ctypes
import threading

import pytest

from pyhost import console

from console_helpers import PATIENT_DEADLINE, Client


@pytest.fixture
def client():
    """A running console (no sampler, a patient page deadline) and a
    client with its token."""
    url = console.start(sample_interval=0, deadline=PATIENT_DEADLINE)
    try:
        yield Client(url)
    finally:
        console.stop()


@pytest.fixture
def leak():
    """leak(obj) loses a reference to obj the way buggy C code does (an
    extra reference nothing accounts for), so the Leaks page has something
    to find.  The references are given back when the test ends, before the
    suite's leak check looks.  Only addresses are kept meanwhile: holding
    the objects would make them referenced, and no longer orphans.  Safe to
    call from any thread."""
    addresses = []
    lock = threading.Lock()

    def leak(obj):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
        with lock:
            addresses.append(id(obj))   # kept alive by the lost reference

    yield leak
    with lock:
        for address in addresses:
            ctypes.pythonapi.Py_DecRef(ctypes.c_void_p(address))
        addresses.clear()
