# SPDX-License-Identifier: MIT
"""Text and JSON rendering shared by snapshots, check() and the CLI."""
import reprlib
import sys
import types

from . import _graph

_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 4
_repr.maxlevel = 2


def type_name(tp):
    """Return 'module.Qualname' for a type, or just the name for builtins."""
    mod = getattr(tp, "__module__", None)
    name = getattr(tp, "__qualname__", None) or getattr(tp, "__name__", "?")
    if mod in (None, "builtins"):
        return name
    return f"{mod}.{name}"


def describe(obj, width=60):
    """A short, safe one-line description of obj (its repr, cut)."""
    try:
        text = _repr.repr(obj)
    except Exception as exc:  # a broken __repr__ must not end a report
        text = f"<{type_name(type(obj))} (repr failed: {type(exc).__name__})>"
    text = " ".join(text.split())
    if len(text) > width:
        text = text[: width - 3] + "..."
    return text


def human_bytes(n):
    """1536 -> '1.5 KiB'."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{sign}{n:.0f} {unit}" if unit == "B" \
                else f"{sign}{n:.1f} {unit}"
        n /= 1024
    return f"{sign}{n} B"  # not reached


def kept(finding):
    """'12,003 objects, 1.1 MiB' (with '>=' when the walk was cut)."""
    ge = "" if finding.kept_complete else ">="
    return (f"{ge}{finding.kept_count:,} obj, "
            f"{ge}{human_bytes(finding.kept_bytes)}")


def _step(parent, child):
    """How parent refers to child, as a Python expression suffix."""
    if isinstance(parent, types.ModuleType):
        return ".__dict__" if child is getattr(parent, "__dict__", None) \
            else ""
    if isinstance(parent, dict):
        for k, v in list(parent.items()):
            if v is child:
                return f"[{describe(k, 30)}]"
        for k in list(parent):
            if k is child:
                return ".<key>"
        return ".<in dict>"
    if isinstance(parent, (list, tuple)):
        for i, v in enumerate(parent):
            if v is child:
                return f"[{i}]"
        return ".<item>"
    if getattr(parent, "__dict__", None) is child:
        return ".__dict__"
    if isinstance(parent, type):
        return ".<type attribute>"
    return f".<referent of {type_name(type(parent))}>"


def path_of(chain):
    """Render a backref chain [module, ..., obj] as one expression.

    'sys.modules["app"].CACHE[3]': a module's dict step is folded into the
    attribute access that follows it.
    """
    if not chain:
        return ""
    root = chain[0]
    if isinstance(root, types.ModuleType):
        out = f"sys.modules[{root.__name__!r}]"
    else:
        out = f"<{type_name(type(root))} root>"
    i = 1
    while i < len(chain):
        parent, child = chain[i - 1], chain[i]
        if (isinstance(parent, types.ModuleType) or
                (not isinstance(parent, dict) and
                 getattr(parent, "__dict__", None) is child)) \
                and isinstance(child, dict) and i + 1 < len(chain):
            # module/object -> its __dict__ -> value: print as .name
            grand = chain[i + 1]
            name = next((k for k, v in list(child.items()) if v is grand),
                        None)
            if isinstance(name, str):
                out += f".{name}"
                i += 2
                continue
        out += _step(parent, child)
        i += 1
    return out


def table(rows, headers):
    """Render rows (lists of str) under headers with aligned columns."""
    widths = [len(h) for h in headers]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    out = ["  " + line]
    for r in rows:
        out.append("  " + "  ".join(
            c.rjust(w) if _numeric(c) else c.ljust(w)
            for c, w in zip(r, widths)).rstrip())
    return "\n".join(out)


def _numeric(cell):
    """Counts and sizes ('+12', '3,744 obj', '>=10 obj') align right."""
    head = cell.lstrip("+->=")
    return head[:1].isdigit()


def finding_dict(f):
    """JSON-ready view of a Finding."""
    obj = f.obj
    return {
        "type": type_name(type(obj)),
        "id": id(obj),
        "repr": describe(obj, 120),
        "excess": f.excess,
        "kept_count": f.kept_count,
        "kept_bytes": f.kept_bytes,
        "kept_complete": f.kept_complete,
    }


def python_version():
    return sys.version.split()[0]


_DESCRIPTORS = (types.WrapperDescriptorType, types.MethodDescriptorType,
                types.GetSetDescriptorType, types.MemberDescriptorType,
                types.ClassMethodDescriptorType, types.MethodWrapperType)
_MACHINERY = (type, types.ModuleType, types.FunctionType,
              types.BuiltinFunctionType, types.CodeType, types.FrameType,
              types.MappingProxyType, types.CellType, types.MethodType,
              classmethod, staticmethod, property) + _DESCRIPTORS


def is_machinery(obj):
    """True for objects the interpreter and C code hold on purpose.

    Types, modules, functions, code, descriptors, weak references,
    interned strings, the dict behind a static type and the subclass
    registries of types: C
    tables and statics keep references to these by design, so they fill
    any list of orphans and external holds.  Reports list them apart.
    """
    if isinstance(obj, _MACHINERY) or isinstance(obj, weakref_types):
        return True
    if obj is None or obj is True or obj is False or obj is Ellipsis \
            or obj is NotImplemented:
        return True  # singletons every C function returns
    if type(obj) is str and _graph.is_interned(obj):
        return True  # identifiers: shared by code objects (not gc-tracked)
    if type(obj) is dict:
        try:
            items = list(obj.items())
        except Exception:
            return False
        if items and all(isinstance(k, int) and isinstance(v, weakref_types)
                         for k, v in items):
            return True  # tp_subclasses of a type: {address: weakref}
        if "__doc__" in obj and any(isinstance(v, _DESCRIPTORS)
                                    for _, v in items):
            return True  # the tp_dict of a static type
    if type(obj).__module__ in ("_ast", "ast") and not vars(obj):
        return True      # _ast singletons (Load, Store, Add, ...)
    return False


import weakref as _weakref  # noqa: E402  (kept next to its one use)

weakref_types = (_weakref.ReferenceType, _weakref.ProxyType,
                 _weakref.CallableProxyType)
