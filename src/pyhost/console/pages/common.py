# SPDX-License-Identifier: MIT
"""Shared by the console's Python pages: the HTTP error pages raise,
argument parsing, pagination, and the HTML building blocks (tables, pager,
forms, sparklines). Every string that reaches HTML goes through esc()."""
import html
import math

from .saferepr import safe_repr

PER_PAGE_MAX = 500


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def esc(s):
    return html.escape(str(s), quote=True)


def int_arg(args, name, default, lo, hi):
    raw = args.get(name)
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise HTTPError(400, f"{name} must be an integer") from None
    if not lo <= v <= hi:
        raise HTTPError(400, f"{name} must be in {lo}..{hi}")
    return v


def paginate(rows, args, columns, default_sort, default_order="desc"):
    """Sort and cut rows (dicts) by the page's sort/order/page/per
    arguments; returns the pagination dict pages render with table()."""
    sort = args.get("sort", default_sort)
    if sort not in columns:
        raise HTTPError(400, f"sort must be one of {', '.join(columns)}")
    order = args.get("order", default_order)
    if order not in ("asc", "desc"):
        raise HTTPError(400, "order must be asc or desc")
    per = int_arg(args, "per", 50, 1, PER_PAGE_MAX)
    page = int_arg(args, "page", 1, 1, 10**9)

    def key(r):
        v = r.get(sort)
        return (v is None, v if v is not None else 0)

    rows.sort(key=key, reverse=(order == "desc"))
    total = len(rows)
    pages = max(1, math.ceil(total / per))
    return {"total": total, "page": page, "pages": pages, "per": per,
            "sort": sort, "order": order,
            "rows": rows[(page - 1) * per:page * per]}


def table(base, pg, columns, extra=""):
    """HTML for a paginated, sortable table.  columns: (key, label, kind)
    with kind "num", "text", "link" (row[key] is text, row[key+'_href'] the
    target), "bool" or "spark" (row[key] is a list of numbers)."""
    out = ['<table class="list"><tr>']
    for key, label, kind in columns:
        if kind == "spark":
            out.append(f"<th>{esc(label)}</th>")
            continue
        order = "asc" if pg["sort"] == key and pg["order"] == "desc" \
            else "desc"
        mark = ""
        if pg["sort"] == key:
            mark = " \u25bc" if pg["order"] == "desc" else " \u25b2"
        out.append(f'<th><a href="{base}?sort={key}&amp;order={order}'
                   f'&amp;per={pg["per"]}{extra}">{esc(label)}{mark}</a>'
                   "</th>")
    out.append("</tr>\n")
    for row in pg["rows"]:
        out.append("<tr>")
        for key, _label, kind in columns:
            v = row.get(key)
            if kind == "num":
                out.append(f'<td class="num">{esc(v)}</td>')
            elif kind == "link" and row.get(key + "_href"):
                out.append(f'<td><a href="{esc(row[key + "_href"])}">'
                           f"{esc(v)}</a></td>")
            elif kind == "spark":
                out.append(f"<td>{sparkline(v or [])}</td>")
            elif kind == "bool":
                txt = {True: "yes", False: "no", None: "?"}[v]
                cls = {True: "ok", False: "bad", None: "muted"}[v]
                out.append(f'<td class="{cls}">{txt}</td>')
            else:
                out.append(f"<td>{esc(v)}</td>")
        out.append("</tr>\n")
    out.append("</table>\n")
    out.append(pager(base, pg, extra))
    return "".join(out)


def pager(base, pg, extra=""):
    parts = [f'<p class="pager">{pg["total"]} rows, page {pg["page"]} of '
             f'{pg["pages"]} ']
    q = f'sort={pg["sort"]}&amp;order={pg["order"]}&amp;per={pg["per"]}{extra}'
    if pg["page"] > 1:
        parts.append(f'<a href="{base}?{q}&amp;page={pg["page"] - 1}" '
                     'rel="prev">previous</a>')
    if pg["page"] < pg["pages"]:
        parts.append(f'<a href="{base}?{q}&amp;page={pg["page"] + 1}" '
                     'rel="next">next</a>')
    parts.append("</p>\n")
    return "".join(parts)


def kv_table(pairs):
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>\n"
                   for k, v in pairs)
    return f"<table>{rows}</table>\n"


def post_button(action, label, csrf, back):
    return (f'<form class="inline" method="post" '
            f'action="/action/{action}?back={back}">'
            f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
            f'<button type="submit" id="btn-{action}">{esc(label)}</button>'
            "</form>")


def sparkline(values, width=120, height=22):
    """An inline SVG polyline (no script, no style: allowed by the CSP)."""
    if len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1
    step = width / (len(values) - 1)
    scale = (height - 4) / span
    pts = " ".join(f"{i * step:.1f},{height - 2 - (v - lo) * scale:.1f}"
                   for i, v in enumerate(values))
    return (f'<svg class="spark" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{lo} to {hi}"><polyline fill="none" '
            f'stroke="#2a6fdb" stroke-width="1.5" points="{pts}"/></svg>')


def obj_link(st, obj):
    """(handle, href, label) for an object shown on a page."""
    h = st.handles.handle(obj)
    return h, f"/object/{h}", safe_repr(obj, 120)


def optional(name):
    """Import an optional part of pyhost (or the launcher's module); None
    when it is absent, so the page can say so."""
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        return None
