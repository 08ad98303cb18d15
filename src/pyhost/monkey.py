# SPDX-License-Identifier: MIT
"""The short name of pyhost.tasklets.monkey: the same module object."""
import sys

from .tasklets import monkey

sys.modules[__name__] = monkey
