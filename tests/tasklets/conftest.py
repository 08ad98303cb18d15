# SPDX-License-Identifier: MIT
"""Fixtures for the hub tests: run a test on each backend, with a fresh hub,
and check that it leaves no operation pending."""
import gc

import pytest

from pyhost import tasklets

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
    hub = tasklets.get_hub()
    gc.collect()
    pending = hub.pending
    # A failed test may leave tasklets blocked: do not let them fail the
    # tests that follow.
    tasklets.set_backend("auto", abandon=True)
    assert pending == 0, "the test left operations pending"

