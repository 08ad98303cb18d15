# SPDX-License-Identifier: MIT
"""The Leaks page: what
pyhost.leaks finds (orphans, external holds, or the diff since the
snapshot), grouped by type, with links to the largest objects."""
import time

from .common import HTTPError, esc, obj_link, optional, pager, paginate, \
    post_button
from .saferepr import type_name


def finding_rows(findings, skip):
    """[(obj, excess, kept_count, kept_bytes)] from pyhost.leaks Findings
    (``.obj``, ``.excess``, ``.kept_count``, ``.kept_bytes``), leaving out
    the objects whose id is in skip."""
    rows = []
    for f in findings:
        if id(f.obj) not in skip:
            rows.append((f.obj, f.excess, f.kept_count, f.kept_bytes))
    return rows


def _console_objects(st, args):
    """The ids of the console's own objects and of this request's
    arguments (which the C side holds while the page runs, so a scan would
    list them as held from C): left out of what the page reports."""
    ids = {id(args)}
    for k, v in args.items():
        ids.add(id(k))
        ids.add(id(v))
    for obj in st.own_objects():
        ids.add(id(obj))
    return ids


def group_by_type(st, rows):
    """Group finding rows by type; each group keeps links to its first
    (largest) few objects."""
    groups = {}
    for obj, excess, kept_count, kept_bytes in rows:
        name = type_name(type(obj))
        g = groups.get(name)
        if g is None:
            g = groups[name] = {"type": name, "count": 0, "excess": 0,
                                "kept_count": 0, "kept_bytes": 0,
                                "samples": []}
        g["count"] += 1
        g["excess"] += excess or 0
        g["kept_count"] += kept_count or 0
        g["kept_bytes"] += kept_bytes or 0
        if len(g["samples"]) < 5:
            h, href, label = obj_link(st, obj)
            g["samples"].append({"handle": h, "href": href, "repr": label})
    return list(groups.values())


LEAK_VIEWS = ("orphans", "external", "diff")
LEAK_SORTS = ("type", "count", "excess", "kept_count", "kept_bytes")
# Bounds the "what does it keep alive" walk per finding, so the page stays
# fast on a heap of millions of objects.
RANK_LIMIT = 1000


def page_leaks(st, args):
    view = args.get("view", "orphans")
    if view not in LEAK_VIEWS:
        raise HTTPError(400, f"view must be one of {', '.join(LEAK_VIEWS)}")
    leaks = optional("pyhost.leaks")
    data = {"view": view, "available": leaks is not None,
            "snapshot_time": st.snapshot_time}
    if leaks is None:
        data["message"] = ("pyhost.leaks is not built in this installation "
                           "(build with -Dparts including leaks)")
        data.update(paginate([], args, LEAK_SORTS, "kept_bytes"))
        return data
    t0 = time.monotonic()
    if view == "orphans":
        found = leaks.orphans(rank_limit=RANK_LIMIT)
        rows = finding_rows(found, _console_objects(st, args))
    elif view == "external":
        found = leaks.held_externally(rank_limit=RANK_LIMIT)
        rows = finding_rows(found, _console_objects(st, args))
    else:
        if st.leaks_snapshot is None:
            data["message"] = "no snapshot yet: take one, then come back"
            data.update(paginate([], args, LEAK_SORTS, "kept_bytes"))
            return data
        diff = leaks.diff(st.leaks_snapshot,
                          leaks.snapshot(rank_limit=RANK_LIMIT))
        # Plain loops, no comprehension or lambda over st and skip: those
        # would put them in cells that this very scan reports as held.
        skip = _console_objects(st, args)
        rows = finding_rows(diff.new_orphans, skip)
        for f, delta in diff.new_held:
            if id(f.obj) not in skip:
                rows.append((f.obj, delta, f.kept_count, f.kept_bytes))
        data["grown"] = []
        for g in diff.grown[:50]:
            data["grown"].append(growth_row(st, g, skip))
        data["objects_before"] = diff.old.objects
        data["objects_after"] = diff.new.objects
        del diff
    groups = group_by_type(st, rows)
    del rows
    data["seconds"] = round(time.monotonic() - t0, 3)
    data.update(paginate(groups, args, LEAK_SORTS, "kept_bytes"))
    return data


def growth_row(st, g, skip):
    samples = []
    for obj in g.samples[:3]:
        if id(obj) in skip:
            continue
        h, href, label = obj_link(st, obj)
        samples.append({"handle": h, "href": href, "repr": label})
    return {"type": type_name(g.type), "count": g.count,
            "count_delta": g.count_delta, "bytes_delta": g.bytes_delta,
            "samples": samples}


def sample_links(samples):
    return "".join(f'<a class="obj" href="{esc(s["href"])}">'
                   f'{esc(s["repr"])}</a><br>' for s in samples)


def render_leaks(st, d):
    out = ['<p>']
    for v, label in (("orphans", "Orphans"), ("external", "Held externally"),
                     ("diff", "Diff since snapshot")):
        cls = ' class="muted"' if v == d["view"] else ""
        out.append(f'<a{cls} href="/leaks?view={v}" id="view-{v}">'
                   f"{label}</a> | ")
    out.append(post_button("snapshot", "Take snapshot", st.csrf, "leaks"))
    out.append("</p>\n")
    if d.get("message"):
        out.append(f'<p class="note">{esc(d["message"])}</p>\n')
        return "".join(out)
    explain = {
        "orphans": "gc-tracked objects no other gc-tracked object refers "
                   "to: leaked by C code, or held only from C.",
        "external": "objects whose reference count exceeds the references "
                    "found in gc-tracked containers: the excess is held "
                    "from C (globals, frames, or a leak).",
        "diff": "what appeared since the snapshot: types that grew, new "
                "orphans and new external holds.",
    }[d["view"]]
    out.append(f'<p class="muted">{esc(explain)} Grouped by type, largest '
               f'first; computed in {d["seconds"]} s.</p>\n')
    if d["view"] == "diff":
        out.append(f'<h2>Types that grew</h2><p>{d["objects_before"]} '
                   f'gc-tracked objects at the snapshot, '
                   f'{d["objects_after"]} now.</p>\n<table id="grown">'
                   "<tr><th>type</th><th>count</th><th>growth</th>"
                   "<th>bytes growth</th><th>new objects</th></tr>\n")
        out.extend(f"<tr><td>{esc(g['type'])}</td><td class=\"num\">"
                   f"{g['count']}</td><td class=\"num\">+{g['count_delta']}"
                   f"</td><td class=\"num\">{g['bytes_delta']}</td>"
                   f'<td class="repr">{sample_links(g["samples"])}</td></tr>'
                   "\n" for g in d["grown"])
        out.append("</table>\n<h2>New orphans and external holds</h2>\n")
    out.append('<table class="list" id="leak-groups"><tr>')
    extra = f'&amp;view={d["view"]}'
    for key, label in (("type", "type"), ("count", "objects"),
                       ("excess", "excess refs"), ("kept_count",
                                                   "keeps alive"),
                       ("kept_bytes", "bytes kept")):
        order = "asc" if d["sort"] == key and d["order"] == "desc" else "desc"
        out.append(f'<th><a href="/leaks?sort={key}&amp;order={order}'
                   f'{extra}">{label}</a></th>')
    out.append("<th>largest</th></tr>\n")
    for g in d["rows"]:
        out.append(f"<tr><td>{esc(g['type'])}</td><td class=\"num\">"
                   f"{g['count']}</td><td class=\"num\">{g['excess']}</td>"
                   f"<td class=\"num\">{g['kept_count']}</td>"
                   f"<td class=\"num\">{g['kept_bytes']}</td>"
                   f'<td class="repr">{sample_links(g["samples"])}</td>'
                   "</tr>\n")
    out.append("</table>\n")
    out.append(pager("/leaks", d, extra))
    return "".join(out)
