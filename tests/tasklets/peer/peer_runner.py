# SPDX-License-Identifier: MIT
"""Run one of CPython's own test modules with a cooperative library patched in.

    python peer_runner.py --impl pyhost --backend uring test_socket
    python peer_runner.py --impl gevent test_socket     # the peer, same way
    python peer_runner.py --impl none test_socket       # unpatched baseline

The module comes from the running interpreter's own test package
(``Lib/test``), so each Python version runs its own suite.  Every
implementation is run the same way: patch first, neuter the test helpers
that count real threads (as gevent's ``monkey_test`` does, since the hubs
keep worker threads), load the module, mark the implementation's disabled
tests as skipped with their reason, drop the VSOCK tests (they hang in
sandboxes: ``/dev/vsock`` exists but has no peer), and run the rest with
unittest.  ``--json FILE`` writes the counts, the failures and every skip
with its reason.
"""
import argparse
import contextlib
import faulthandler
import json
import os
import sys
import time
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def apply_pyhost(backend):
    os.environ["PYHOST_HUB_BACKEND"] = backend
    import pyhost.monkey
    pyhost.monkey.patch_all()
    from pyhost import tasklets
    actual = tasklets.hub_backend()
    if actual != backend:
        raise SystemExit(f"peer_runner: asked for the {backend} backend, "
                         f"the hub runs {actual}")
    sys.path.insert(0, HERE)
    from disabled import disabled_tests
    return disabled_tests


def apply_gevent(_backend):
    from gevent import monkey
    monkey.patch_all()
    # gevent's own list, taken from its source-rewriting helper.
    from gevent.testing import patched_tests_setup as pts
    table = {}
    for name in pts.disabled_tests:
        table[name] = "disabled by gevent.testing.patched_tests_setup"
    return lambda module: {
        k.split(".", 1)[1]: v for k, v in table.items()
        if k.startswith(module + ".")}


def apply_none(_backend):
    return lambda module: {}


IMPLS = {"pyhost": apply_pyhost, "gevent": apply_gevent, "none": apply_none}


def neuter_thread_counting():
    """The stdlib helpers count OS threads with _thread._count(); a hub's
    resolver thread is not a leak of the test (gevent does the same)."""
    from test import support
    from test.support import threading_helper

    def threading_setup():
        return (1, ())

    def threading_cleanup(*_args):
        return None

    @contextlib.contextmanager
    def wait_threads_exit(timeout=None):
        yield

    # The modules print progress when verbose (the default outside
    # regrtest); the runner prints its own summary.
    support.verbose = False
    for mod in (support, threading_helper):
        for name, fn in (("threading_setup", threading_setup),
                         ("threading_cleanup", threading_cleanup),
                         ("wait_threads_exit", wait_threads_exit)):
            if hasattr(mod, name):
                setattr(mod, name, fn)


def load_module(name):
    """Execute Lib/test/NAME.py as a fresh module registered under NAME."""
    import test
    path = os.path.join(os.path.dirname(test.__file__), name + ".py")
    with open(path, encoding="utf-8") as f:
        source = f.read()
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def disable(module, disabled):
    """Replace each disabled Class.method with a skip carrying its reason."""
    unknown = []
    for qualname, reason in disabled.items():
        cls_name, _, meth = qualname.partition(".")
        cls = getattr(module, cls_name, None)
        if cls is not None and not meth:
            setattr(module, cls_name, unittest.skip(reason)(cls))
            continue
        if cls is None or not hasattr(cls, meth):
            unknown.append(qualname)
            continue
        setattr(cls, meth, unittest.skip(reason)(getattr(cls, meth)))
    return unknown


def flatten(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from flatten(test)
        else:
            yield test




def run(module_name, impl, backend, verbose, extra_skips=()):
    disabled_for = IMPLS[impl](backend)
    neuter_thread_counting()
    module = load_module(module_name)
    disabled = disabled_for(module_name)
    disabled.update((name, "skipped on the command line (--skip)")
                    for name in extra_skips)
    unknown = disable(module, disabled)
    tests = [t for t in flatten(
        unittest.defaultTestLoader.loadTestsFromModule(module))
        if "VSOCK" not in t.id()]
    runner = unittest.TextTestRunner(stream=sys.stderr,
                                     verbosity=2 if verbose else 1,
                                     )
    start = time.monotonic()
    result = runner.run(unittest.TestSuite(tests))
    elapsed = time.monotonic() - start
    short = lambda test: test.id().split(".", 1)[-1]  # noqa: E731
    return {
        "module": module_name,
        "impl": impl,
        "backend": backend if impl == "pyhost" else None,
        "python": sys.version.split()[0],
        # Tests loaded (skipped ones included), the count unittest prints
        # on 3.11; 3.12 stopped counting class-level skips in testsRun.
        "ran": len(tests),
        "started": result.testsRun,
        "failures": [[short(t), tb] for t, tb in result.failures],
        "errors": [[short(t), tb] for t, tb in result.errors],
        "unexpected_successes": [short(t)
                                 for t in result.unexpectedSuccesses],
        "skipped": [[short(t), reason] for t, reason in result.skipped],
        "unknown_disabled": unknown,
        "seconds": round(elapsed, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="e.g. test_socket")
    parser.add_argument("--impl", choices=sorted(IMPLS), default="pyhost")
    parser.add_argument("--backend", choices=("uring", "epoll"),
                        default="epoll")
    parser.add_argument("--json", help="write the summary here")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--skip", action="append", default=[],
                        metavar="CLASS.METHOD",
                        help="also skip this test (to look past a hang)")
    args = parser.parse_args(argv)
    # A hung test prints every thread's stack instead of hanging silently.
    faulthandler.dump_traceback_later(900, exit=True)
    summary = run(args.module, args.impl, args.backend, args.verbose,
                  args.skip)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    bad = len(summary["failures"]) + len(summary["errors"])
    print(f"{summary['module']} [{args.impl}"
          f"{'/' + args.backend if args.impl == 'pyhost' else ''}] "
          f"ran {summary['ran']}, failures+errors {bad}, "
          f"skipped {len(summary['skipped'])}, {summary['seconds']} s")
    # os._exit: a hub or resolver thread left by a failing test must not
    # keep the process alive.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if bad or summary["unexpected_successes"] else 0)


if __name__ == "__main__":
    main()
