# SPDX-License-Identifier: MIT
"""Fixtures for the tasklet tests: run a test on each hub backend, with a
fresh hub, and check that it leaves no operation pending.

A test marked `finish_tasklets` (the TLS tests, whose servers see EOF after
the test body) must also let its remaining tasklets finish."""
import gc

import pytest

from pyhost import tasklets
from testenv import scaled


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "finish_tasklets: the backend fixture runs the hub until "
        "the test's tasklets finish, and fails the test if they do not")


def _uring_works():
    try:
        tasklets.set_backend("uring")
        return True
    except OSError:
        return False
    finally:
        tasklets.set_backend("auto")


URING = _uring_works()


@pytest.fixture(params=["uring", "epoll"])
def backend(request):
    """The backend name; this thread's hub is a fresh one on it."""
    if request.param == "uring" and not URING:
        pytest.skip("io_uring cannot be set up here (seccomp or sysctl)")
    tasklets.set_backend(request.param)
    yield request.param
    finished = True
    if request.node.get_closest_marker("finish_tasklets"):
        # Let the test's remaining tasklets (servers seeing EOF) finish.
        finished = tasklets.run(timeout=scaled(10))
    hub = tasklets.get_hub()
    gc.collect()
    pending = hub.pending
    # A failed test may leave tasklets blocked: do not let them fail the
    # tests that follow.
    tasklets.set_backend("auto", abandon=True)
    assert finished, "tasklets still alive after the test"
    assert pending == 0, "the test left operations pending"
