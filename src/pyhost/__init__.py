# SPDX-License-Identifier: MIT
"""pyhost: run CPython inside a long-lived program of your own.

The four parts:

- isolated start: ``libpyhost`` and the ``pyhost`` launcher (C, no Python API);
- leak hunting: :mod:`pyhost.leaks`;
- tasklets and cooperative sockets: ``pyhost.tasklet``, ``pyhost.channel``,
  ..., and the modules :mod:`pyhost.socket`, :mod:`pyhost.select`,
  :mod:`pyhost.ssl`, :mod:`pyhost.monkey`;
- the live console: :mod:`pyhost.console`.

The tasklet API is imported on first use, so ``import pyhost.leaks`` does not
load greenlet or start a hub.
"""

__version__ = "0.1.0"

# Names re-exported from pyhost.tasklets, loaded lazily by __getattr__.
_TASKLET_API = (
    "tasklet", "spawn", "schedule", "sleep", "run", "channel",
    "Timeout", "TaskletExit", "getcurrent", "getmain",
)


def __getattr__(name):
    if name in _TASKLET_API:
        from . import tasklets
        value = getattr(tasklets, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pyhost' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_TASKLET_API))
