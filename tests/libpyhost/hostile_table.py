# SPDX-License-Identifier: MIT
"""Print the hostile-environment table for the README: every vector of
embed_hostile.py under pyhost, python3, python3 -E and python3 -I.

usage: python tests/libpyhost/hostile_table.py   (with the venv where pyhost is
installed; python3 is that venv's base interpreter)"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import embedtools  # noqa: E402
import embed_hostile as hostile  # noqa: E402


def cell(fired, rc):
    text = "**PWN**" if fired else "–"
    if rc not in (0, None) and rc != -2:
        text += " (exit %d)" % rc
    return text


def main():
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        lab = hostile.Lab(tmp)
        for name, setup, _ in hostile.VECTORS:
            cells = []
            for mode in hostile.MODES:
                fired, rc, _out = hostile.run_vector(lab, setup, mode)
                cells.append(cell(fired, rc))
            lab.cleanup()
            rows.append((name, cells))
    print("Python %s (%s), pyhost %s" % (embedtools.VERSION,
                                         embedtools.BASE_PYTHON,
                                         embedtools.LAUNCHER))
    print()
    print("| Vector | " + " | ".join("`%s`" % m for m in hostile.MODES)
          + " |")
    print("|---|" + "---|" * len(hostile.MODES))
    for name, cells in rows:
        print("| %s | %s |" % (name, " | ".join(cells)))


if __name__ == "__main__":
    main()
