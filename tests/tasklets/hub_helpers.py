# SPDX-License-Identifier: MIT
"""Helpers shared by the hub tests (a module name unique across tests/)."""
import os

SANITIZED = os.environ.get("PYHOST_SANITIZED") == "1"


def margin(seconds):
    """A responsiveness bound, widened under the sanitizers."""
    return seconds * (5 if SANITIZED else 1)
