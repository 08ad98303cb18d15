# SPDX-License-Identifier: MIT
"""python -m pyhost.leaks [--json] [--top N] SCRIPT [ARGS...] | -m MODULE

Runs the script (or module) as __main__, then prints what it leaked: the
objects it left orphaned, the objects holding references nothing explains,
and the types that grew, compared with the heap before it ran.
"""
import argparse
import gc
import json
import os
import runpy
import sys
import traceback
import types

from . import _report
from ._snapshot import diff, snapshot


def _parse(argv):
    p = argparse.ArgumentParser(
        prog="python -m pyhost.leaks",
        description="Run a Python script and report the objects it leaked.")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON")
    p.add_argument("--top", type=int, default=15, metavar="N",
                   help="rows per section (default 15)")
    p.add_argument("-m", dest="module", metavar="MODULE",
                   help="run a module instead of a script")
    p.add_argument("target", nargs=argparse.REMAINDER,
                   help="SCRIPT [ARGS...] (or ARGS for -m)")
    ns = p.parse_args(argv)
    if ns.module is None and not ns.target:
        p.error("give a SCRIPT to run, or -m MODULE")
    if ns.top < 1:
        p.error(f"--top must be >= 1, not {ns.top}")
    return ns


def _compile_script(path):
    with open(path, "rb") as f:
        return compile(f.read(), path, "exec")


def _run_script(code, path, args):
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main  # keeps its globals reachable afterwards
    sys.argv[:] = [path] + args
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    exec(code, main.__dict__)


def _run_module(name, args):
    sys.argv[:] = [name] + args
    # runpy hands back (a copy of) the module's globals: keep them, or
    # whatever the module keeps would be freed before the report.
    return runpy.run_module(name, run_name="__main__", alter_sys=True)


def _exit_status(code):
    """The status sys.exit(code) gives; like the interpreter, print a
    code that is neither None nor an int (a message) to stderr."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _take():
    # Both snapshots come from this one call site, so the interpreter
    # stack holds the same objects during each.
    return snapshot()


def main(argv=None):
    ns = _parse(sys.argv[1:] if argv is None else argv)
    target = ns.module or ns.target[0]
    if ns.module is None and not os.path.isfile(target):
        print(f"python -m pyhost.leaks: cannot open {target!r}: "
              "no such file", file=sys.stderr)
        return 2
    try:
        # Compile before the first snapshot: the first compile() of source
        # in a process builds the interpreter's AST types (~500 objects).
        compile("pass", "<pyhost.leaks warm-up>", "exec")
        code = None if ns.module else _compile_script(target)
    except (OSError, SyntaxError, ValueError) as exc:
        print(f"python -m pyhost.leaks: cannot compile {target!r}: {exc}",
              file=sys.stderr)
        return 2
    gc.collect()
    before = _take()
    status = 0
    kept = None
    try:
        if ns.module:
            kept = _run_module(ns.module, ns.target)
        else:
            _run_script(code, target, ns.target[1:])
            code = None
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except BaseException:
        traceback.print_exc()
        status = 1
    gc.collect()
    after = _take()
    d = diff(before, after)
    del kept
    if ns.json:
        print(json.dumps(dict(d.to_dict(ns.top), target=target,
                              python=_report.python_version(),
                              exit_status=status), indent=2))
    else:
        print()
        print(f"pyhost.leaks: what {target} left behind "
              f"(Python {_report.python_version()}, "
              f"{d.new.objects:,} gc-tracked objects, "
              f"{d.new.objects - d.old.objects:+,} since it started)")
        print(d.report(ns.top))
    return status


if __name__ == "__main__":
    sys.exit(main())
