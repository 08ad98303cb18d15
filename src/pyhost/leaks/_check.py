# SPDX-License-Identifier: MIT
"""check(): run a callable the way CPython's regrtest -R does.

Warm-up runs first (caches fill, imports happen), then counted runs; after
each run: gc.collect() (three times, as test.support.gc_collect does) and
the counters are read.  A counter leaks when it grew in every counted run
(file descriptors: when it moved at all), as in
Lib/test/libregrtest/refleak.py.  Counters: sys.gettotalrefcount() on debug
builds, sys.getallocatedblocks(), open file descriptors, and on every build
the total excess of external references (what held_externally() sums), so a
reference taken on an existing object is seen on release builds too.
"""
import gc
import os
import sys
import tracemalloc

from . import _report
from ._scan import _check_int, _register_own_type, _run_scan
from ._snapshot import diff, snapshot


def _fd_count():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def _external_total():
    """Sum of excess over all external holds (0 findings kept)."""
    _, held = _run_scan(None, False, True, 0)
    return sum([f.excess for f in held])


@_register_own_type
class CheckResult:
    """What check() measured; ``leaked`` and a readable ``report()``."""

    __slots__ = ("name", "leaked", "deltas", "diff", "traces", "warmup",
                 "runs")

    def __init__(self, name, deltas, leaking, d, traces, warmup, runs):
        self.name = name
        self.deltas = deltas    # {counter: [delta per counted run]}
        self.leaked = leaking   # [counter names that leaked]
        self.diff = d
        self.traces = traces    # [tracemalloc StatisticDiff]
        self.warmup = warmup
        self.runs = runs

    def __bool__(self):
        return bool(self.leaked)

    def report(self, top=10):
        verdict = "LEAKS" if self.leaked else "no leak found"
        out = [f"{self.name}: {verdict} ({self.warmup} warm-up runs, "
               f"{self.runs} counted runs)"]
        for counter, deltas in self.deltas.items():
            mark = "  <- leak" if counter in self.leaked else ""
            out.append(f"  {counter:20s} {deltas}, sum={sum(deltas)}{mark}")
        if self.leaked:
            out.append(self.diff.report(top))
            if self.traces:
                out.append("Allocated by (tracemalloc, counted runs):")
                for st in self.traces[:top]:
                    frame = st.traceback[0]
                    out.append(f"  {frame.filename}:{frame.lineno}: "
                               f"+{st.count_diff} blocks, "
                               f"+{_report.human_bytes(st.size_diff)}")
        return "\n".join(out)

    def to_dict(self, top=50):
        return {
            "name": self.name, "leaked": self.leaked, "deltas": self.deltas,
            "diff": self.diff.to_dict(top),
            "tracemalloc": [
                {"file": st.traceback[0].filename,
                 "line": st.traceback[0].lineno,
                 "count_diff": st.count_diff, "size_diff": st.size_diff}
                for st in self.traces[:top]],
        }

    def __repr__(self):
        return f"<CheckResult {self.name} leaked={self.leaked}>"


def check(func, *args, runs=3, warmup=3, collect=True, **kwargs):
    """Run func(*args, **kwargs) warmup + runs times; return a CheckResult.

    The result is true when a counter grew in every counted run; its
    report() lists the deltas, the types that grew with sample objects, the
    new orphans and new external holds, and (when tracemalloc is tracing)
    the source lines that allocated the blocks.  collect=False skips the
    gc.collect() after each run (then unreachable cycles count as growth).
    """
    if not callable(func):
        raise TypeError(f"func must be callable, not {type(func).__name__}")
    _check_int("runs", runs, 1)
    _check_int("warmup", warmup, 0)
    name = getattr(func, "__qualname__", None) or repr(func)

    # bpo-31217: deltas come from a pool, lists are allocated up front, so
    # the bookkeeping itself allocates nothing between two readings.
    int_pool = {v: v for v in range(-1000, 1000)}
    counters = [("memory blocks", sys.getallocatedblocks),
                ("external refs", _external_total)]
    if hasattr(sys, "gettotalrefcount"):
        counters.append(("references", sys.gettotalrefcount))
    counters.append(("file descriptors", _fd_count))
    names = [n for n, _ in counters]
    deltas = {n: [0] * runs for n in names}
    before = [0] * len(counters)
    now = [0] * len(counters)
    base = trace0 = None
    tracing = tracemalloc.is_tracing()

    def read(into):
        for j, (_, counter) in enumerate(counters):
            into[j] = counter()

    def settle():
        if collect:
            gc.collect()
            gc.collect()
            gc.collect()

    # Both readings sit inside this one loop, as statements: the stack
    # (loop iterators, temporaries) is the same each time they are taken.
    for i in range(warmup + runs):
        if i == warmup:
            base = snapshot()
            if tracing:
                trace0 = tracemalloc.take_snapshot()
            settle()
            read(before)
        func(*args, **kwargs)
        settle()
        read(now)
        if i >= warmup:
            for j, n in enumerate(names):
                delta = now[j] - before[j]
                deltas[n][i - warmup] = int_pool.get(delta, delta)
        before, now = now, before
    last = snapshot()
    traces = []
    if tracing:
        trace1 = tracemalloc.take_snapshot()
        here = os.path.dirname(__file__)
        filters = [tracemalloc.Filter(False, tracemalloc.__file__),
                   tracemalloc.Filter(False, here + os.sep + "*")]
        traces = [st for st in trace1.filter_traces(filters).compare_to(
            trace0.filter_traces(filters), "lineno") if st.count_diff > 0]
        del trace0, trace1
    leaking = [n for n in names
               if (any(deltas[n]) if n == "file descriptors"
                   else all(x >= 1 for x in deltas[n]))]
    d = diff(base, last)
    return CheckResult(name, deltas, leaking, d, traces, warmup, runs)
