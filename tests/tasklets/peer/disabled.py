# SPDX-License-Identifier: MIT
"""Tests of CPython's suite that the pyhost peer run marks as skipped.

Each entry is "Class.method" (or "Class" for a whole class) with the reason
a reviewer can check.  peer_runner.py reports entries that no longer match a
test, so the list cannot silently rot.  A test belongs here only when it
checks something pyhost deliberately does differently, never to hide a bug
(those are fixed in pyhost).
"""

# pyhost keeps every socket's fd O_NONBLOCK in the kernel (the hub needs it)
# and keeps the blocking mode and timeout in Python (docs/hub.md).
_FD_NONBLOCK = ("reads the fd's O_NONBLOCK flag with fcntl; pyhost keeps "
                "every fd non-blocking in the kernel and emulates blocking "
                "mode and timeouts (docs/hub.md)")

_DISABLED = {
    "test_socket": {
        "NonBlockingTCPTests.testSetBlocking": _FD_NONBLOCK,
        "NonBlockingTCPTests.testSetBlocking_overflow": _FD_NONBLOCK,
        "NonblockConstantTest.test_SOCK_NONBLOCK": _FD_NONBLOCK,
    },
    "test_select": {
        "SelectTestCase.test_disallow_instantiation": (
            "checks that type(select.poll()) cannot be instantiated, a flag "
            "of the C type; pyhost.select.poll is a Python class"),
    },
    "test_selectors": {},
}


def disabled_tests(module):
    """Return {qualname: reason} for MODULE (e.g. 'test_socket'), the same
    on both hub backends."""
    return dict(_DISABLED.get(module, {}))
