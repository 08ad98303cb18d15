# SPDX-License-Identifier: MIT
"""The game's Python side: game_loop.c calls frame() once per frame."""
import sys

_positions = {"ship": 0.0}
_frames = 0


def frame(number, dt):
    """Advance the world by dt seconds; return a line for the host."""
    global _frames
    _frames += 1
    _positions["ship"] += 120.0 * dt
    return "ship at x=%.1f" % _positions["ship"]


def report():
    """Printed once at the end: what ran, and from where."""
    print("frames run: %d" % _frames)
    print("sys.path: %s" % sys.path)
