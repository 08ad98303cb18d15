#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark of pyhost.leaks against its peers, on one heap, in one run.

    python bench/leaks.py [--objects N] [--runs R] [--no-memory]

Heap: N one-element lists (gc-tracked) plus 100 lists lost by C code (an
extra reference, no referrer: orphans) and 100 heap lists with an extra
reference (held: still referenced normally).  Times are medians of R calls
in this process (objgraph.get_leaking_objects() runs its own gc.collect();
so does nothing else).  Peak extra memory: one call in a fresh process,
VmHWM after minus VmRSS before (Linux /proc, peak reset through
/proc/self/clear_refs), also per gc-tracked object.  Rows for guppy3 and
pympler appear when they are installed.  Prints a Markdown table; main()
returns the rows for bench/run.py.
"""
import argparse
import gc
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)


def build_heap(n):
    """Return (heap, orphan_ids, held_ids)."""
    try:
        from pyhost._testing import _leaky
        leak_ref = _leaky.leak_ref
    except ImportError:             # installed without the test extension
        import ctypes

        def leak_ref(obj):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    heap = [[i] for i in range(n)]
    orphan_ids, held_ids = set(), set()
    for i in range(100):
        o = ["lost", i]
        leak_ref(o)
        orphan_ids.add(id(o))
        del o
        h = heap[i * (n // 100)]
        leak_ref(h)
        held_ids.add(id(h))
    gc.collect()
    return heap, orphan_ids, held_ids


def cases():
    """(name, peer_of, thunk factory) for each row; peers may be absent."""
    from pyhost import leaks
    out = [
        ("gc.collect()", None, lambda: gc.collect),
        ("pyhost.leaks.orphans()", "gc.collect()", lambda: leaks.orphans),
    ]
    try:
        import objgraph
    except ImportError:
        objgraph = None
    if objgraph is not None:
        out.append(("objgraph.get_leaking_objects()", None,
                    lambda: objgraph.get_leaking_objects))
    out.append(("pyhost.leaks.census()", None, lambda: leaks.census))
    if objgraph is not None:
        out.append(("objgraph.typestats()", None,
                    lambda: objgraph.typestats))
    out.append(("pyhost.leaks.held_externally()", None,
                lambda: leaks.held_externally))
    out.append(("pyhost.leaks.snapshot()", None, lambda: leaks.snapshot))
    try:
        from guppy import hpy
        out.append(("guppy3 hpy().heapu()", None, lambda: hpy().heapu))
    except ImportError:
        pass
    try:
        from pympler import muppy, summary

        def pympler_summary():
            return summary.summarize(muppy.get_objects())
        out.append(("pympler summarize(get_objects())", None,
                    lambda: pympler_summary))
    except ImportError:
        pass
    return out


# Who each row is compared with, and the target the issue sets.
RATIOS = {
    "pyhost.leaks.orphans()": [("gc.collect()", "<= 1.5x gc.collect"),
                               ("objgraph.get_leaking_objects()",
                                ">= 10x faster")],
    "pyhost.leaks.census()": [("objgraph.typestats()", ">= 10x faster")],
}


def found(name, result, orphan_ids, held_ids):
    if name == "pyhost.leaks.orphans()":
        got = {id(f.obj) for f in result}
        return f"{len(orphan_ids & got)}/100 lost lists"
    if name == "objgraph.get_leaking_objects()":
        got = {id(o) for o in result}
        return f"{len(orphan_ids & got)}/100 lost lists"
    if name == "pyhost.leaks.held_externally()":
        got = {id(f.obj) for f in result}
        return (f"{len(orphan_ids & got)}/100 lost, "
                f"{len(held_ids & got)}/100 held")
    if name == "guppy3 hpy().heapu()":
        return f"{result.count} objects"
    return ""


def time_rows(n, runs):
    heap, orphan_ids, held_ids = build_heap(n)
    tracked = len(gc.get_objects())
    rows = {}
    for name, _, factory in cases():
        fn = factory()
        reps = runs if "objgraph.get_" not in name and "pympler" not in name \
            and "guppy" not in name else max(1, min(runs, 3))
        times, note = [], ""
        for _ in range(reps):
            t0 = time.perf_counter()
            r = fn()
            times.append(time.perf_counter() - t0)
            note = found(name, r, orphan_ids, held_ids) or note
            del r
        rows[name] = {"median": statistics.median(times), "runs": times,
                      "found": note}
    del heap
    return tracked, rows


def _status():
    d = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                k, v = line.split(":")
                d[k] = int(v.split()[0]) * 1024
    return d


def memory_child(name, n):
    """Run in a fresh process: one call of name, print the peak delta."""
    heap, _, _ = build_heap(n)
    fn = dict((c[0], c[2]) for c in cases())[name]()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status()["VmRSS"]
    r = fn()
    peak = _status()["VmHWM"] - base
    del r, heap
    print(peak)


def memory_rows(n, names):
    out = {}
    for name in names:
        p = subprocess.run([sys.executable, HERE, "--memory-child", name,
                            "--objects", str(n)], capture_output=True,
                           text=True, timeout=600)
        try:
            out[name] = int(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            out[name] = None
    return out


def render(tracked, rows, mem):
    lines = [
        f"Heap: {tracked:,} gc-tracked objects "
        f"(Python {sys.version.split()[0]}); medians of the runs shown.",
        "",
        "| call | median | runs | vs | ratio (target) | peak extra memory "
        "| per object | found |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        comps = [(peer, target) for peer, target in RATIOS.get(name, [])
                 if peer in rows]
        vs = "<br>".join(peer for peer, _ in comps)
        ratio = "<br>".join(
            (f"{r['median'] / rows[peer]['median']:.2f}x ({target})"
             if peer == "gc.collect()" else
             f"{rows[peer]['median'] / r['median']:.1f}x faster ({target})")
            for peer, target in comps)
        m = mem.get(name)
        mem_s = f"{m / 2**20:.1f} MiB" if m is not None else "-"
        per = f"{m / tracked:.1f} B" if m is not None else "-"
        lines.append(
            f"| `{name}` | {r['median'] * 1000:.1f} ms | {len(r['runs'])} "
            f"| {vs} | {ratio} | {mem_s} | {per} | {r['found']} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--objects", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--memory-child", metavar="NAME", help=argparse.SUPPRESS)
    ns = p.parse_args(argv)
    if ns.memory_child:
        memory_child(ns.memory_child, ns.objects)
        return None
    tracked, rows = time_rows(ns.objects, ns.runs)
    mem = {} if ns.no_memory else memory_rows(ns.objects, list(rows))
    print(render(tracked, rows, mem))
    return {"tracked": tracked, "rows": rows, "memory": mem}


if __name__ == "__main__":
    main()
