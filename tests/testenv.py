# SPDX-License-Identifier: MIT
"""What every test may need to know about the machine it runs on.

SANITIZED is true in the ASan+UBSan run (.ci/test-all sets
PYHOST_SANITIZED=1), where everything runs several times slower.
scaled() is the one slow-down helper: it widens a time a test is willing
to wait (a deadline for something to happen, a timeout) so that a slow or
busy machine gives the same verdict.  It is never used to make a time
bound tight: tests assert behaviour (what happened, in what order, before
which event), and speed is measured in bench/.
"""
import os

SANITIZED = os.environ.get("PYHOST_SANITIZED") == "1"

# How much longer than on an idle machine a test should be willing to wait.
SLOWDOWN = 5.0 if SANITIZED else 1.0


def scaled(seconds):
    """Return `seconds` widened for this run (sanitizers make code slower)."""
    return seconds * SLOWDOWN
