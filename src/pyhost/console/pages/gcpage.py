# SPDX-License-Identifier: MIT
"""The GC page: counts,
thresholds and stats, and the one place the console collects: the collect
button's action."""
import gc
import time

from .common import kv_table, post_button


def page_gc(st, args):
    d = {"enabled": gc.isenabled(), "counts": list(gc.get_count()),
         "thresholds": list(gc.get_threshold()),
         "stats": gc.get_stats(), "garbage": len(gc.garbage),
         "frozen": gc.get_freeze_count()}
    if st.last_collect is not None:
        when, n, secs = st.last_collect
        d["last_collect"] = {"at": when, "collected": n, "seconds": secs}
    return d


def render_gc(st, d):
    out = [kv_table([("automatic collection", "on" if d["enabled"]
                       else "off"),
                      ("counts (gen 0, 1, 2)", d["counts"]),
                      ("thresholds", d["thresholds"]),
                      ("gc.garbage", d["garbage"]),
                      ("frozen objects", d["frozen"])])]
    out.append("<h2>Per generation</h2><table><tr><th>gen</th>"
               "<th>collections</th><th>collected</th><th>uncollectable"
               "</th></tr>\n")
    for i, s in enumerate(d["stats"]):
        out.append(f"<tr><td>{i}</td><td class=\"num\">"
                   f"{s.get('collections')}</td><td class=\"num\">"
                   f"{s.get('collected')}</td><td class=\"num\">"
                   f"{s.get('uncollectable')}</td></tr>\n")
    out.append("</table>\n<p>The console never collects on its own. ")
    out.append(post_button("collect", "Run gc.collect()", st.csrf, "gc"))
    out.append("</p>\n")
    if "last_collect" in d:
        lc = d["last_collect"]
        out.append(f'<p id="last-collect">Last collection from the console: '
                   f'{lc["collected"]} objects in {lc["seconds"]:.3f} s.</p>'
                   "\n")
    return "".join(out)


def action_collect(st):
    """POST /action/collect: run gc.collect() and remember the result."""
    t0 = time.monotonic()
    n = gc.collect()
    st.last_collect = (time.time(), n, time.monotonic() - t0)
