# SPDX-License-Identifier: MIT
"""The Overview and Modules pages: the interpreter, sys.path, flags, and the
launcher's isolation audit when running under it (_pyhost_embed)."""
import os
import sys

from .. import _server
from .common import esc, kv_table, optional, paginate, table
from .saferepr import safe_repr, truncate, type_name


def page_overview(st, args):
    flags = {k: getattr(sys.flags, k) for k in dir(sys.flags)
             if not k.startswith("_") and not callable(getattr(sys.flags, k))}
    paths = [{"entry": truncate(p, 500), "exists": os.path.exists(p)}
             for p in sys.path[:200] if isinstance(p, str)]
    data = {
        "python": sys.version,
        "implementation": sys.implementation.name,
        "debug_build": hasattr(sys, "gettotalrefcount"),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "pid": os.getpid(),
        "sys_path": paths,
        "flags": flags,
        "console": dict(_server.status() or {}, **st.handles.stats()),
        "isolation": isolation_audit(),
    }
    return data


def isolation_audit():
    embed = optional("_pyhost_embed")
    if embed is None:
        return {"available": False,
                "message": "not running under the pyhost launcher "
                           "(_pyhost_embed is not importable): no "
                           "isolation audit"}
    try:
        config = embed.config()
        audit = list(embed.audit())
    except Exception as e:
        return {"available": False,
                "message": f"_pyhost_embed failed: {type_name(type(e))}"}
    outside = [{"module": str(m), "file": None if f is None else str(f)}
               for m, f, inside in audit if not inside and f is not None]
    return {"available": True,
            "config": {str(k): jsonable(v) for k, v in dict(config).items()},
            "modules": len(audit), "outside_roots": outside[:200],
            "outside_count": len(outside)}


def jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v[:200]]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in list(v.items())[:200]}
    return safe_repr(v)


def render_overview(st, d):
    out = [kv_table([("Python", d["python"]),
                      ("implementation", d["implementation"]),
                      ("debug build", d["debug_build"]),
                      ("executable", d["executable"]),
                      ("prefix", d["prefix"]), ("pid", d["pid"])])]
    out.append("<h2>sys.path</h2>\n<table id=\"syspath\"><tr><th>entry</th>"
               "<th>exists</th></tr>\n")
    for p in d["sys_path"]:
        cls, txt = ("ok", "yes") if p["exists"] else ("bad", "missing")
        out.append(f"<tr><td><code>{esc(p['entry'])}</code></td>"
                   f'<td class="{cls}">{txt}</td></tr>\n')
    out.append("</table>\n<h2>Isolation audit</h2>\n")
    iso = d["isolation"]
    if not iso["available"]:
        out.append(f'<p class="note" id="isolation">{esc(iso["message"])}'
                   "</p>\n")
    else:
        n = iso["outside_count"]
        cls = "ok" if n == 0 else "bad"
        out.append(f'<p id="isolation" class="{cls}">{iso["modules"]} '
                   f"modules imported; {n} from outside the configured "
                   "roots.</p>\n")
        out.append(kv_table(list(iso["config"].items())))
        if n:
            out.append("<table><tr><th>module</th><th>file</th></tr>")
            out.extend(f"<tr><td>{esc(o['module'])}</td><td><code>"
                       f"{esc(o['file'])}</code></td></tr>\n"
                       for o in iso["outside_roots"])
            out.append("</table>\n")
    out.append("<h2>Flags</h2>\n")
    out.append(kv_table(sorted(d["flags"].items())))
    out.append("<h2>Console</h2>\n")
    out.append(kv_table(sorted(d["console"].items())))
    return "".join(out)


def page_modules(st, args):
    inside_by_name = {}
    embed = optional("_pyhost_embed")
    note = None
    if embed is None:
        note = ("not running under the pyhost launcher: whether a module "
                "lies inside the configured roots is unknown")
    else:
        try:
            for m, _f, inside in embed.audit():
                inside_by_name[str(m)] = bool(inside)
        except Exception as e:
            note = f"_pyhost_embed.audit() failed: {type_name(type(e))}"
    rows = []
    for name, mod in list(sys.modules.items()):
        if not isinstance(name, str):
            continue
        origin = None
        try:
            spec = mod.__dict__.get("__spec__") if hasattr(mod, "__dict__") \
                else None
            origin = getattr(spec, "origin", None) if spec is not None \
                else mod.__dict__.get("__file__")
        except Exception:
            pass
        if origin is None:
            origin = ""
        elif type(origin) is not str:   # any object: its str may raise
            origin = safe_repr(origin)
        rows.append({"name": truncate(name, 200),
                     "origin": truncate(origin, 500),
                     "inside_roots": inside_by_name.get(name)})
    pg = paginate(rows, args, ("name", "origin", "inside_roots"), "name",
                   "asc")
    pg["note"] = note
    return pg


def render_modules(st, d):
    out = []
    if d["note"]:
        out.append(f'<p class="note">{esc(d["note"])}</p>\n')
    out.append(table("/modules", d, [("name", "module", "text"),
                                      ("origin", "origin", "text"),
                                      ("inside_roots", "inside roots",
                                       "bool")]))
    return "".join(out)
