# SPDX-License-Identifier: MIT
"""The leak check over pyhost's own tests: pyhost.leaks checks pyhost.

The leak check (the `leakcheck` fixture) wraps every test under
tests/tasklets, tests/console and tests/leaks, as greenlet's suite runs
under its leakcheck.py, but with pyhost's own scans instead of repeated
runs: a test fails at teardown ("leakcheck: ...") when, after its fixtures
have torn down and a gc.collect(),

- an object the test created (gc-tracked, new since the fixture's
  set-up) is still alive because of a reference that no object on the
  heap accounts for: it is an orphan (nothing refers to it: the root of
  whatever a lost reference keeps alive), or, with PYHOST_LEAKCHECK=full,
  held externally (more references than its referrers explain; that scan
  costs several times more).  Objects that existed before the test
  (caches, interned objects, the interpreter's own C-held objects) are
  never reported;
- more instances of pyhost's own C types (hubs, timers, findings), of
  greenlets (tasklets) or of sockets are alive than before the test;
- the collector found uncollectable garbage (gc.garbage grew).

Opt-outs, each with a reason: `@pytest.mark.leaks_on_purpose(reason)` for
a test whose leak outlives its fixtures on purpose (tests that leak
through the `ledger` fixture need nothing: it releases before the check),
`@pytest.mark.leakcheck_off(reason)` for anything else.
PYHOST_LEAKCHECK=0 turns the check off for a run; a build without
pyhost.leaks (-Dparts without leaks) runs without it.

Objects that pytest's own frames hold while the check runs (their value
stacks are invisible to any scan) look like orphans: the check keeps
them (_Pending) and confirms at the start of the next test, when those
frames are gone.  A failure is reported as an error at teardown of the
test that leaked, and names each survivor, its type, and what holds it
(pyhost.leaks.backref_chain from a module, or nothing).
"""
import gc
import importlib.util
import os
import pathlib
import socket
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The test folders whose tests create hub, console or leaks objects.
LEAKCHECK_PARTS = ("tasklets", "console", "leaks")

LEAKCHECK_ON = os.environ.get("PYHOST_LEAKCHECK", "1") != "0"
LEAKCHECK_FULL = os.environ.get("PYHOST_LEAKCHECK") == "full"
_LEAKS_BUILT = importlib.util.find_spec("pyhost.leaks") is not None

# How often the check looks again before it reports: an object a
# finishing thread (a console worker, a resolver job) still holds is not
# a leak if it goes within this time.
LEAKCHECK_RETRIES = (0.05, 0.2, 0.5)

# How many surviving objects a failure describes (each costs a search).
LEAKCHECK_SHOWN = 5


def _leakcheck_applies(request):
    """True if request's test is in a checked folder and not opted out.
    Fails the test when an opt-out marker gives no reason."""
    if not LEAKCHECK_ON or not _LEAKS_BUILT:
        return False
    try:
        rel = pathlib.Path(str(request.node.fspath)).relative_to(
            ROOT / "tests")
    except ValueError:
        return False
    if not rel.parts or rel.parts[0] not in LEAKCHECK_PARTS:
        return False
    for name in ("leaks_on_purpose", "leakcheck_off"):
        mark = request.node.get_closest_marker(name)
        if mark is None:
            continue
        reason = mark.kwargs.get("reason", mark.args[0] if mark.args else "")
        if not isinstance(reason, str) or not reason.strip():
            pytest.fail(f"@pytest.mark.{name} needs a reason string",
                        pytrace=False)
        return False
    return True


def _counted_types():
    """The types whose live instances must come back to their number:
    pyhost's own C types, greenlets (tasklets are greenlets) and sockets.
    Subclasses count as their base.  Only types already imported."""
    bases = [socket.socket]
    for modname, names in (("pyhost.tasklets._hub", ("Hub", "Timer")),
                           ("pyhost.leaks._graph", ("Finding",)),
                           ("greenlet", ("greenlet",))):
        mod = sys.modules.get(modname)
        for name in names:
            tp = getattr(mod, name, None)
            if isinstance(tp, type):
                bases.append(tp)
    return tuple(bases)


def _leakcheck_counts(census, bases):
    """{base: live instances} from a census {type: (count, bytes)}."""
    counts = dict.fromkeys(bases, 0)
    for tp, (n, _) in census.items():
        for base in bases:
            if issubclass(tp, base):
                counts[base] += n
    return counts


def _leakcheck_warm_up():
    """Create what the interpreter and pyhost keep for the life of a
    thread, so that a test that happens to be the first to need it is not
    taken for its creator: this thread's state dict (made on first use,
    e.g. by the first repr of a non-empty list) and, when pyhost.tasklets
    is in use, this thread's hub (owned by that dict)."""
    repr([None])
    hub = sys.modules.get("pyhost.tasklets._hub")
    if hub is not None:
        hub.get_hub()


class _Before:
    """What the check keeps from before the test: the orphans (and, in
    full mode, the external holds) of that moment as Findings, the
    identity keys of the gc-tracked objects (8 bytes each, no reference to
    any), the counts of the counted types, and the length of gc.garbage.

    The Findings hold their objects (and every scan discounts that), so an
    old orphan cannot die during the test and hand its address to a new
    one: "not found before" is exact, where an identity key can be reused
    by a new object at a freed old one's address."""

    __slots__ = ("findings", "found", "keys", "counts", "garbage",
                 "modules", "threads")

    def __init__(self):
        from pyhost.leaks import _graph, census

        _leakcheck_warm_up()
        # No gc.collect() here: garbage left by earlier tests is old
        # objects, which the check never reports, and counts only fall
        # when the collector frees it.
        orphans, held = _leakcheck_scan()
        self.findings = orphans + held
        del orphans, held
        self.found = {}
        for f in self.findings:
            self.found[id(f.obj)] = max(f.excess,
                                        self.found.get(id(f.obj), 0))
        objects = gc.get_objects()
        try:
            self.keys = _graph.identities(objects)
            self.counts = _leakcheck_counts(census(objects),
                                            _counted_types())
        finally:
            del objects
        self.garbage = len(gc.garbage)
        self.modules = set(sys.modules)
        self.threads = _thread_idents()

    def is_new(self, f):
        """True if the Finding f reports what was not found before the
        test: an object that was no orphan then (new, most often), or an
        external hold that grew."""
        return f.excess > self.found.get(id(f.obj), -1)


def _type_name(tp):
    from pyhost.leaks import _report

    return _report.type_name(tp)


def _describe(obj):
    from pyhost.leaks import _report

    return _report.describe(obj, 80)


def _held_by(obj, excess):
    """Say what holds obj: the chain of references from a module (from
    pyhost.leaks.backref_chain), and the references nobody accounts for."""
    from pyhost.leaks import _report, backref_chain

    chain = backref_chain(obj, max_depth=12)
    try:
        if chain is None:
            path = "no chain of references from any module"
        else:
            path = "reached as " + _report.path_of(chain)
    finally:
        del chain
    if excess:
        return f"{excess} reference(s) no object accounts for; {path}"
    return f"referred to by no object; {path}"


def _leakcheck_counts_and_garbage(before):
    """Return the problem lines of gc.garbage and of the counted types."""
    from pyhost.leaks import _graph, census

    problems = []
    gc.collect()
    for obj in gc.garbage[before.garbage:]:
        problems.append(f"uncollectable garbage: {_describe(obj)} "
                        f"(type {_type_name(type(obj))})")
    bases = tuple(before.counts)
    after = _leakcheck_counts(census(), bases)
    grown = tuple(tp for tp in bases if after[tp] > before.counts[tp])
    if grown:
        samples = _graph.new_objects(before.keys, None, grown, 3)
        for tp in grown:
            problems.append(
                f"{after[tp] - before.counts[tp]} more {_type_name(tp)} "
                f"alive than before the test ({before.counts[tp]} -> "
                f"{after[tp]})")
            for obj in samples.get(tp, []):
                problems.append(f"  e.g. {_describe(obj)}: "
                                f"{_held_by(obj, 0)}")
        del samples
    return problems


def _leakcheck_scan():
    """Return (orphans, held) as Findings: held is empty unless
    PYHOST_LEAKCHECK=full (the held scan costs several times the orphan
    scan, and what it adds, an extra reference to a new object that an
    old one also refers to, is rare next to a new object lost whole)."""
    from pyhost.leaks import orphans
    from pyhost.leaks._scan import scan_both

    if LEAKCHECK_FULL:
        return scan_both(rank_limit=0)
    return orphans(rank_limit=0), []


def _thread_idents():
    """The idents of the threads running Python code now."""
    import threading

    return set(sys._current_frames()) | {
        t.ident for t in threading.enumerate()}


_WARNING_ACTIONS = {"default", "error", "ignore", "always", "all",
                    "module", "once"}


def _held_by_cpython_on_purpose(obj, excess, new_modules):
    """True for the new objects CPython's C code keeps without a
    reference any scan can see, and that are no leak:

    - the last warnings.filters list that _warnings read (its C state
      caches it until the next warning; catch_warnings replaces the list);
    - the constants of the code of a module imported during the test
      (tuples whose only referrer, a code object, is not gc-tracked);
    - on 3.13+, an instance __dict__ made from the object's inline values:
      the object holds it, but its tp_traverse does not visit it (the
      collector's own gc.get_referrers() finds no referrer either), so
      any str-keyed dict with one such reference is taken for one.
    """
    if (sys.version_info >= (3, 13) and type(obj) is dict and excess == 1
            and all(type(k) is str for k in obj)):
        return True
    if type(obj) is list and obj and all(
            type(x) is tuple and len(x) == 5 and x[0] in _WARNING_ACTIONS
            for x in obj):
        return True
    if type(obj) is tuple and new_modules:
        return id(obj) in _code_constants(new_modules)
    return False


def _code_constants(modules):
    """ids of the constant tuples of the code in modules (their functions
    and the functions of their classes, nested code included)."""
    import types

    ids, codes = set(), []
    for mod in modules:
        for value in list(getattr(mod, "__dict__", {}).values()):
            for v in (list(vars(value).values()) if isinstance(value, type)
                      else [value]):
                code = getattr(getattr(v, "__func__", v), "__code__", None)
                if isinstance(code, types.CodeType):
                    codes.append(code)
    while codes:
        code = codes.pop()
        for c in (code.co_consts, code.co_names, code.co_varnames):
            ids.add(id(c))
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                codes.append(c)
            elif type(c) is tuple:
                ids.add(id(c))
    return ids


def _leakcheck_suspects(before):
    """Return the Findings (orphans and external holds) not found before
    the test, leaving out interpreter machinery (types, functions, the
    subclass registries of types...: C tables hold those on purpose, and
    an import during a test makes some).  A Finding holds its object, and
    every scan discounts that reference."""
    from pyhost.leaks import _report

    if _thread_idents() - before.threads:
        # A thread the test started still runs (a pool started on first
        # use): what its running frames hold on their value stacks looks
        # like orphans, and cannot be told from a leak.  Counts still
        # apply.
        return []
    new_modules = [m for name, m in list(sys.modules.items())
                   if name not in before.modules]
    orphans, held = _leakcheck_scan()
    seen = set()
    new = []
    for f in orphans + held:   # an orphan can be held externally too
        if (id(f.obj) not in seen and before.is_new(f) and
                not _report.is_machinery(f.obj) and
                not _held_by_cpython_on_purpose(f.obj, f.excess,
                                                new_modules)):
            seen.add(id(f.obj))
            new.append(f)
    return new


def _only_findings_hold(f):
    """True if nothing but Findings holds f.obj any more."""
    from pyhost.leaks import _graph

    obj = f.obj
    # obj, getrefcount's argument, and each Finding that holds it.
    return sys.getrefcount(obj) <= 2 + _graph.hidden_count(obj)


class _Pending:
    """A checked test whose suspects wait to be confirmed.

    At the end of a test's protocol pytest's own frames still hold
    objects in their value stacks (pluggy's iterators, a hook's
    arguments), which no scan sees: they look held externally.  So the
    check keeps the suspects (through Findings, which later scans
    discount) and confirms them once those frames have unwound, at the
    start of the next test's protocol or at the end of the session: a
    suspect that nothing but the Findings holds any more was in flight; one
    that a new scan still finds is a leak.
    """

    def __init__(self, item, problems, suspects, started):
        self.item = item
        self.problems = problems
        self.suspects = suspects
        self.started = started

    def settle(self):
        """Confirm the suspects and report the test if anything is left."""
        problems = self.problems
        suspects = [f for f in self.suspects if not _only_findings_hold(f)]
        self.suspects = None
        if suspects:
            orphans, held = _leakcheck_scan()
            still = {id(f.obj): f for f in orphans + held}
            del orphans, held
            leaked = []
            for f in suspects:
                g = still.get(id(f.obj))
                if g is not None:
                    leaked.append(g)
            del still, suspects
            for f in leaked[:LEAKCHECK_SHOWN]:
                obj = f.obj
                problems.append(f"{_describe(obj)} (type "
                                f"{_type_name(type(obj))}) survived the "
                                f"test: {_held_by(obj, f.excess)}")
                del obj
            if len(leaked) > LEAKCHECK_SHOWN:
                problems.append(f"... and {len(leaked) - LEAKCHECK_SHOWN} "
                                "more new objects that no reference "
                                "accounts for")
            del leaked
        if not problems:
            return
        item = self.item
        text = "leakcheck: " + "\nleakcheck: ".join(problems)
        now = time.time()
        report = pytest.TestReport(
            item.nodeid, item.location, keywords=dict(item.keywords),
            outcome="failed", longrepr=text, when="teardown",
            duration=time.monotonic() - self.started, start=now, stop=now)
        item.ihook.pytest_runtest_logreport(report=report)


_TMP_FIXTURES = {"tmp_path", "tmpdir", "tmp_path_factory", "tmpdir_factory"}
_BEFORE = pytest.StashKey()
_PENDING = []


def _settle_pending(config):
    if not _PENDING:
        return
    # pytest's log capture keeps the last phase's io.StringIO until the
    # next phase; on 3.11 a StringIO holds lists its tp_traverse does not
    # visit, which would look held externally.  Start a fresh one now.
    plugin = config.pluginmanager.get_plugin("logging-plugin")
    for name in ("caplog_handler", "report_handler"):
        handler = getattr(plugin, name, None)
        if hasattr(handler, "reset"):
            handler.reset()
    while _PENDING:
        _PENDING.pop().settle()


@pytest.fixture(autouse=True)
def leakcheck(request):
    """Take what the leak check needs before the test (see the module's
    docstring).  Autouse and imported by tests/conftest.py, so it is set
    up after the module- and session-scoped fixtures and before every
    function-scoped one.  The check itself runs in pytest_runtest_protocol below, once the
    test's fixtures (the `ledger`, which releases deliberate leaks,
    included) have torn down."""
    if _leakcheck_applies(request):
        if _TMP_FIXTURES.intersection(request.fixturenames):
            # The first use of the temporary directory registers an atexit
            # callback, which C holds: make it before the snapshot.
            request.getfixturevalue("tmp_path_factory").getbasetemp()
        request.node.stash[_BEFORE] = _Before()
    yield


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Around the whole protocol of a test (set-up, call, teardown,
    reports): first settle the previous checked test, then, after this
    test, count and scan.  tryfirst: the outermost wrapper, so the other
    wrappers' frames are gone when it checks."""
    _settle_pending(item.config)
    try:
        return (yield)
    finally:
        before = item.stash.get(_BEFORE, None)
        if before is not None:
            del item.stash[_BEFORE]
            started = time.monotonic()
            problems = _leakcheck_counts_and_garbage(before)
            for pause in LEAKCHECK_RETRIES:
                if not problems:
                    break
                # A finishing thread may still hold what it is about to
                # release: look again.
                time.sleep(pause)
                problems = _leakcheck_counts_and_garbage(before)
            suspects = _leakcheck_suspects(before)
            before.findings = None
            _PENDING.append(_Pending(item, problems, suspects, started))
            del before, suspects


def pytest_sessionfinish(session):
    _settle_pending(session.config)
