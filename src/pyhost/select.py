# SPDX-License-Identifier: MIT
"""The short name of pyhost.tasklets.select: the same module object."""
import sys

from .tasklets import select

sys.modules[__name__] = select
