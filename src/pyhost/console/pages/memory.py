# SPDX-License-Identifier: MIT
"""The Memory page: a census
of gc-tracked objects by type, its history sampled on a timer (drawn as
sparklines), and growth since the snapshot."""
import collections
import gc
import time

from .common import esc, optional, paginate, post_button, table
from .saferepr import type_name

HISTORY_MAX = 60          # memory samples kept
HISTORY_TYPES = 200       # types kept per sample


def census(st):
    """{type name: count} of gc-tracked objects, the console's own (those
    of st) left
    out.  Uses pyhost.leaks.census() when that part is built."""
    leaks = optional("pyhost.leaks")
    counts = None
    if leaks is not None:
        counts = census_from_leaks(leaks.census())
    if counts is None:
        counts = collections.Counter()
        for obj in gc.get_objects():
            counts[type(obj)] += 1
        counts = {type_name(t): n for t, n in counts.items()}
    if st is not None:
        for obj in st.own_objects():
            if gc.is_tracked(obj):
                name = type_name(type(obj))
                if counts.get(name, 0) > 0:
                    counts[name] -= 1
    return counts


def census_from_leaks(result):
    """{type name: count} from pyhost.leaks.census()'s {type: (count,
    bytes)}."""
    out = {}
    for tp, (count, _nbytes) in result.items():
        name = type_name(tp)
        out[name] = out.get(name, 0) + count
    return out


def sample(st):
    """Add one census sample to st's history (the GIL worker calls this
    every sample_interval, and the Memory page when there is none yet)."""
    counts = census(st)
    top = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:HISTORY_TYPES])
    st.history.append((time.time(), top))


def page_memory(st, args):
    if not st.history:
        sample(st)
    when, latest = st.history[-1]
    series = {}
    for _t, counts in st.history:
        for name in latest:
            series.setdefault(name, []).append(counts.get(name, 0))
    snap = st.snapshot_census
    rows = []
    for name, n in latest.items():
        row = {"type": name, "count": n, "history": series.get(name, [])}
        if snap is not None:
            row["at_snapshot"] = snap.get(name, 0)
            row["growth"] = n - snap.get(name, 0)
        rows.append(row)
    pg = paginate(rows, args, ("type", "count", "growth", "at_snapshot"),
                   "count")
    pg.update(sampled_at=when, samples=len(st.history),
              objects=sum(latest.values()), types=len(latest),
              snapshot_time=st.snapshot_time,
              counted="gc-tracked objects (containers); str, int and "
                      "other untracked objects are not counted")
    return pg


def render_memory(st, d):
    out = [f'<p class="muted">{esc(d["counted"])}.  Last sample '
           f'{time.strftime("%H:%M:%S", time.localtime(d["sampled_at"]))}, '
           f'{d["samples"]} samples kept (sparklines).</p>\n']
    if d["snapshot_time"] is None:
        out.append('<p>No snapshot yet: take one to see growth. ')
    else:
        when = time.localtime(d["snapshot_time"])
        out.append('<p id="snapshot-info">Growth since the snapshot of '
                   f'{time.strftime("%H:%M:%S", when)}. ')
    out.append(post_button("snapshot", "Take snapshot", st.csrf, "memory"))
    out.append("</p>\n")
    cols = [("type", "type", "text"), ("count", "count", "num")]
    if d["snapshot_time"] is not None:
        cols += [("at_snapshot", "at snapshot", "num"),
                 ("growth", "growth", "num")]
    cols.append(("history", "history", "spark"))
    out.append(table("/memory", d, cols))
    return "".join(out)
