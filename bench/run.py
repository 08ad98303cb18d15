# SPDX-License-Identifier: MIT
"""Run pyhost's benchmarks and write their tables to docs/benchmarks.md.

    python bench/run.py [--list] [--output FILE | --no-write] [NAME ...]

With no NAME it runs every benchmark (what `make bench` does) and rewrites
the whole file; with names, only those run and only their sections are
replaced, the others are kept as they were.  Each benchmark is a script of
its own that prints its table: run it directly (for instance
`python bench/echo/run.py --rounds 1`) to see a table without writing
anything.  Run this with the interpreter of the venv where pyhost is
installed (`make bench` uses build/venv-X.Y).
"""
import argparse
import datetime
import os
import pathlib
import platform
import re
import subprocess
import sys
import textwrap

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"


def rel(path):
    """path relative to the repository, as the messages show it."""
    return os.path.relpath(path, ROOT)


class Benchmark:
    def __init__(self, script, title, about):
        self.script = HERE / script
        self.title = title
        self.about = about

    @property
    def command(self):
        return f"python {rel(self.script)}"


# In the order of the parts in the README.  The text under each title says
# what is measured and what the target is; the table below it is the
# script's output, as printed.
BENCHMARKS = {
    "hostile": Benchmark(
        "hostile_environment.py",
        "Isolated start: a hostile environment",
        "Every way we know for the machine to run code in a Python "
        "process that did not ask for it, under `pyhost`, `python3`, "
        "`python3 -E` and `python3 -I`.  Each vector plants code that "
        "writes a canary file; **PWN** means the canary appeared.  The "
        "test suite (tests/libpyhost/) asserts that none fires under "
        "pyhost and that `sys.path` equals the configured list.  A forged "
        "timestamp `.pyc` in a writable `__pycache__` is another matter "
        "(CPython trusts the timestamp, under pyhost as under "
        "`python3 -I`): see docs/embed.md, \"Forged bytecode\"."),
    "startup": Benchmark(
        "startup.py",
        "Isolated start: start-up time",
        "The time from spawning to the end of `-c pass`, commands "
        "interleaved round by round, in milliseconds.  Target: `pyhost` "
        "no slower than `python3 -I -S`."),
    "leaks": Benchmark(
        "leaks.py",
        "Leak hunting: pyhost.leaks against its peers",
        "One heap of 1,000,000 one-element lists plus 100 lists lost by C "
        "code (orphans) and 100 over-referenced ones (held externally), "
        "every call in one run.  Targets: `orphans()` at most 1.5x a full "
        "`gc.collect()` and at least 10x faster than objgraph; `census()` "
        "at least 10x faster than `objgraph.typestats()`; at most 16 B of "
        "extra memory per object."),
    "echo": Benchmark(
        "echo/run.py",
        "Tasklets and cooperative sockets: loopback TCP echo",
        "A C epoll load client pinned to one core, the server to the "
        "other; 1, 10 and 100 connections with 100 B and 16 KiB messages, "
        "rounds interleaved, medians.  Servers: pyhost (io_uring, epoll), "
        "gevent, threads, asyncio streams and protocol, uvloop streams and "
        "protocol, and a plain C epoll server as the ceiling.  Target: at "
        "100 connections with 100 B messages, at least 2x gevent's round "
        "trips per second and no more server CPU per round trip than "
        "uvloop streams.  Under other load on the machine round trips per "
        "second swing widely; CPU per round trip stays steady."),
    "console": Benchmark(
        "console.py",
        "The live console: responsiveness",
        "Requests, one at a time for 3 s per condition, to a page pyhost "
        "answers in C without the GIL, a page that needs Python, and a "
        "stdlib HTTP server on a Python thread (how dowser, dozer and "
        "pympler.web serve their pages), while the main thread is idle, "
        "runs Python, or holds the GIL in C."),
}

BEGIN = "<!-- bench:{} -->"
END = "<!-- /bench:{} -->"
SECTION = re.compile(r"<!-- bench:([\w-]+) -->\n.*?<!-- /bench:\1 -->\n",
                     re.S)


def git(*args):
    try:
        out = subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def machine():
    """One line: date, commit, Python, kernel, cores, CPU model."""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = ", " + line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " with local changes"
    date = datetime.datetime.now(datetime.timezone.utc)
    return (f"{date:%Y-%m-%d %H:%M} UTC, commit {commit}; "
            f"Python {platform.python_version()}, Linux "
            f"{platform.release()}, {os.cpu_count()} cores{cpu}")


def header(names, when):
    rows = "\n".join(f"| `{name}` | {b.title} | `{b.command}` |"
                     for name, b in BENCHMARKS.items())
    return f"""# Benchmarks

Written by `make bench` (`bench/run.py`); rerun it rather than editing
this file.  Each benchmark measures one part of pyhost against the peers
named in its table, on one machine, in one run; each section says when,
at which commit and on what machine it was measured.

Reproduce them all with `make bench` (it builds pyhost into
`build/venv-X.Y` first and rewrites this file).  One alone:
`build/venv-X.Y/bin/python bench/run.py NAME` reruns it and replaces only
its section here; running its script directly prints the table and
writes nothing (its docstring lists its options).  Run them on a quiet
machine: other load moves the wall-clock figures.

| name | benchmark | script |
|---|---|---|
{rows}

{textwrap.fill(f"Last written by `bench/run.py {' '.join(names)}`: {when}.", 76)}
"""


def section(name, body, when):
    b = BENCHMARKS[name]
    intro = textwrap.fill(f"`{b.command}`: measured {when}.", 76)
    about = textwrap.fill(b.about, 76)
    return (f"{BEGIN.format(name)}\n## {b.title}\n\n{intro}\n\n"
            f"{about}\n\n{body.strip()}\n{END.format(name)}\n")


def placeholder(name):
    return section(name, "Not measured yet: run "
                   f"`bench/run.py {name}`.", "never")


def write(path, names, results, when):
    """Rewrite path: the header, then every benchmark's section, from
    results (name -> output) where it ran, else as the file had it."""
    old = {}
    if path.exists():
        for m in SECTION.finditer(path.read_text(encoding="utf-8")):
            old[m.group(1)] = m.group(0)
    parts = [header(names, when)]
    for name in BENCHMARKS:
        if name in results:
            parts.append(section(name, results[name], when))
        else:
            parts.append(old.get(name) or placeholder(name))
    path.write_text("\n".join(parts), encoding="utf-8")


def run(name):
    """Run one benchmark with this interpreter, echoing its output as it
    comes; return its standard output, or None when it failed."""
    script = BENCHMARKS[name].script
    if not script.exists():
        print(f"bench/run.py: {name}: {rel(script)} does not exist",
              file=sys.stderr)
        return None
    print(f"\n## {name}: {rel(script)}\n", flush=True)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    if proc.wait() != 0:
        print(f"bench/run.py: {name} failed (exit {proc.returncode})",
              file=sys.stderr)
        return None
    return "".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__.split("\n\n")[0],
        epilog="benchmarks: " + ", ".join(BENCHMARKS),
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true",
                        help="list the benchmarks and exit")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT,
                     metavar="FILE",
                     help="the file to write (default: docs/benchmarks.md)")
    out.add_argument("--no-write", action="store_true",
                     help="only print the tables")
    args = parser.parse_args(argv)

    if args.list:
        for name, b in BENCHMARKS.items():
            missing = "" if b.script.exists() else "  (script missing)"
            print(f"{name:10} {b.command:40} {b.title}{missing}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from "
                     f"{', '.join(BENCHMARKS)} (or none for all)")
    names = list(dict.fromkeys(args.names)) or list(BENCHMARKS)

    probe = subprocess.run([sys.executable, "-c", "import pyhost"],
                           capture_output=True)
    if probe.returncode:
        sys.exit(f"bench/run.py: pyhost does not import in {sys.executable}"
                 "; run it with the venv `make build` makes "
                 "(build/venv-X.Y/bin/python), or use `make bench`")

    when = machine()
    results, failed = {}, []
    for name in names:
        output = run(name)
        if output is None:
            failed.append(name)
        else:
            results[name] = output
    if results and not args.no_write:
        write(args.output, names, results, when)
        print(f"\nbench/run.py: wrote {', '.join(results)} to "
              f"{os.path.relpath(args.output)}")
    if failed:
        print(f"bench/run.py: failed: {', '.join(failed)}"
              + ("; their sections were left as they were"
                 if not args.no_write else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
