# SPDX-License-Identifier: MIT
"""The Object page: one
object named by its handle, with its referents, its referrers (the
console's own left out) and its back-reference chain from a module."""
import gc
import sys

from .common import HTTPError, esc, kv_table, obj_link, optional
from .saferepr import safe_repr, type_name

REFS_SHOWN = 100          # referents / referrers listed on an object page


def own_frame_ids():
    """Frames of the console's own code now running (left out of
    referrers)."""
    ids = set()
    f = sys._getframe()
    while f is not None:
        ids.add(id(f))
        f = f.f_back
    return ids


def page_object(st, args, handle):
    if not (8 <= len(handle) <= 32) or \
            not all(c.isalnum() or c in "-_" for c in handle):
        raise HTTPError(404, "malformed object handle")
    obj = st.handles.resolve(handle)
    tp = type(obj)
    try:
        size = sys.getsizeof(obj)
    except Exception:
        size = None
    d = {"handle": handle, "type": type_name(tp),
         "type_href": f"/object/{st.handles.handle(tp)}",
         "size": size, "repr": safe_repr(obj),
         "gc_tracked": gc.is_tracked(obj)}
    referents = []
    for r in gc.get_referents(obj)[:REFS_SHOWN]:
        h, href, label = obj_link(st, r)
        referents.append({"handle": h, "href": href, "type":
                          type_name(type(r)), "repr": label})
    d["referents"] = referents
    # Referrers, minus the console's own frames, lists and handle entries.
    own = own_frame_ids()
    own.update(id(x) for x in st.own_objects())
    found = gc.get_referrers(obj)
    own.add(id(found))
    own.add(id(referents))
    tool_types = _tool_types()
    referrers = []
    for r in found:
        if id(r) in own or type(r) in tool_types or \
                len(referrers) >= REFS_SHOWN:
            continue
        h, href, label = obj_link(st, r)
        referrers.append({"handle": h, "href": href, "type":
                          type_name(type(r)), "repr": label})
    del found
    d["referrers"] = referrers
    d["chain"] = backref_chain(st, obj)
    return d


def _tool_types():
    """Types of the diagnostics' own records (pyhost.leaks's findings and
    snapshots, which the console keeps): never shown as referrers."""
    leaks = optional("pyhost.leaks")
    if leaks is None:
        return ()
    return tuple(getattr(leaks, n) for n in
                 ("Finding", "Snapshot", "Diff", "TypeGrowth")
                 if hasattr(leaks, n))


def backref_chain(st, obj):
    leaks = optional("pyhost.leaks")
    if leaks is None:
        return {"available": False,
                "message": "the back-reference chain needs pyhost.leaks, "
                           "which is not built here"}
    try:
        chain = leaks.backref_chain(obj, max_depth=20)
    except Exception as e:
        return {"available": False, "message": "backref_chain failed: "
                f"{type_name(type(e))}: {safe_repr(str(e), 200)}"}
    if not chain:
        return {"available": True, "links": [],
                "message": "no chain from a module found within 20 steps"}
    links = []
    for step in list(chain)[:40]:
        h, href, label = obj_link(st, step)
        links.append({"handle": h, "href": href,
                      "type": type_name(type(step)), "repr": label})
    return {"available": True, "links": links}


def render_refs(title, ident, refs):
    out = [f"<h2>{title} ({len(refs)} shown)</h2>\n"
           f'<table id="{ident}"><tr><th>type</th><th>repr</th></tr>\n']
    for r in refs:
        out.append(f"<tr><td>{esc(r['type'])}</td><td class=\"repr\">"
                   f'<a href="{esc(r["href"])}">{esc(r["repr"])}</a>'
                   "</td></tr>\n")
    out.append("</table>\n")
    return "".join(out)


def render_object(st, d):
    out = [kv_table([("type", d["type"]), ("size (sys.getsizeof)",
                      d["size"]), ("gc-tracked", d["gc_tracked"])])]
    out.append(f'<p><a href="{esc(d["type_href"])}" id="type-link">'
               "open the type</a></p>\n")
    out.append(f'<h2>repr</h2><pre class="repr" id="repr">{esc(d["repr"])}'
               "</pre>\n")
    chain = d["chain"]
    out.append("<h2>Back-reference chain from a module</h2>\n")
    if chain.get("links"):
        out.append('<ol id="chain">')
        out.extend(f'<li>{esc(c["type"])}: <a href="{esc(c["href"])}">'
                   f'{esc(c["repr"])}</a></li>' for c in chain["links"])
        out.append("</ol>\n")
    else:
        out.append(f'<p class="muted" id="chain">{esc(chain["message"])}'
                   "</p>\n")
    out.append(render_refs("Referents", "referents", d["referents"]))
    out.append(render_refs("Referrers", "referrers", d["referrers"]))
    return "".join(out)
