# SPDX-License-Identifier: MIT
"""The short name of pyhost.tasklets.ssl: the same module object."""
import sys

from .tasklets import ssl

sys.modules[__name__] = ssl
