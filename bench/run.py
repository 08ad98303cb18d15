# SPDX-License-Identifier: MIT
"""Runs every pyhost benchmark, one after the other, each printing its table.

    python bench/run.py [leaks] [startup] [echo] [console]

With no argument it runs them all.  Each benchmark is its own script (see
bench/*.py and bench/echo/run.py) and can be run alone the same way; this
file only sequences them so `make bench` reproduces the README's tables.
"""
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
BENCHMARKS = {
    "leaks": HERE / "leaks.py",
    "startup": HERE / "startup.py",
    "echo": HERE / "echo" / "run.py",
    "console": HERE / "console.py",
}


def main(argv):
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"bench/run.py: unknown benchmark {unknown[0]!r}; "
                 f"choose from {', '.join(BENCHMARKS)}")
    failed = []
    for name in names:
        print(f"\n## {name}\n", flush=True)
        if subprocess.run([sys.executable, str(BENCHMARKS[name])]).returncode:
            failed.append(name)
    if failed:
        sys.exit(f"bench/run.py: failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
