# SPDX-License-Identifier: MIT
"""Hostile-environment table: every vector of the hostile-environment suite
(tests/libpyhost/embed_hostile.py) run under pyhost, python3, python3 -E
and python3 -I, printed as the Markdown table of the README.

    python bench/hostile_environment.py

Run it with the venv where pyhost is installed; python3 is that venv's base
interpreter (the one pyhost was built against).  A cell reads **PWN** when
the vector's planted code ran (its canary file exists afterwards), "–"
when it did not, plus the exit status when the run failed.  The vectors
and the way each is run live with the tests, so the table and
tests/libpyhost/test_hostile_environment.py always agree."""
import argparse
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
# embed_hostile and embedtools live with the tests, and embedtools imports
# tests/testenv.py.
sys.path[:0] = [str(ROOT / "tests" / "libpyhost"), str(ROOT / "tests")]
import embed_hostile as hostile  # noqa: E402
import embedtools  # noqa: E402


def cell(fired, rc):
    """One cell: PWN or a dash, and the exit status if the run failed
    (a run that ended by SIGINT, status -2, is not marked)."""
    text = "**PWN**" if fired else "–"
    if rc not in (0, None) and rc != -2:
        text += " (exit %d)" % rc
    return text


def main(argv):
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    if not embedtools.LAUNCHER.exists():
        raise SystemExit("bench: pyhost is not installed in %s"
                         % embedtools.SCRIPTS)
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
    main(sys.argv[1:])
