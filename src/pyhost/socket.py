# SPDX-License-Identifier: MIT
"""The short name of pyhost.tasklets.socket: the same module object."""
import sys

from .tasklets import socket

sys.modules[__name__] = socket
