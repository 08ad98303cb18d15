# SPDX-License-Identifier: MIT
"""safe_repr(): the repr every console page shows. Builtins are formatted
here, other objects' __repr__ runs under a time budget, and nothing it
returns can be long. The page budget is per thread: the console's GIL worker
renders pages while the application may call safe_repr() from its own
threads."""
import collections
import sys
import threading
import time

REPR_MAX = 300            # characters of a repr on a page
REPR_BUDGET = 0.05        # seconds one object's __repr__ may run
PAGE_REPR_BUDGET = 0.25   # seconds all reprs of one page may take together
# Past this many items, a subclass of a builtin container (OrderedDict,
# defaultdict, deque, a namedtuple...) is formatted here, not by its own
# __repr__: that one runs in C over every item, where no budget reaches.
BIG_CONTAINER = 64

# .left: repr seconds left while this thread renders a page (absent or
# None outside a page).
_budget = threading.local()


def begin_page():
    """Start the repr budget of one page: its objects' __repr__ calls may
    take PAGE_REPR_BUDGET seconds together."""
    _budget.left = PAGE_REPR_BUDGET


def end_page():
    _budget.left = None


def type_name(tp):
    """Module-qualified type name, read without running any user code (a
    metaclass property or a non-str __module__ cannot break it)."""
    try:
        name = type.__dict__["__qualname__"].__get__(tp, type)
    except Exception:
        name = "?"
    try:
        mod = type.__dict__["__module__"].__get__(tp, type)
    except Exception:
        mod = None
    if not isinstance(name, str):
        name = "?"
    if isinstance(mod, str) and mod != "builtins":
        return f"{mod}.{name}"
    return name


def truncate(s, limit=REPR_MAX):
    if len(s) > limit:
        return s[:limit] + f"... ({len(s)} chars)"
    return s


_SCALARS = (int, float, complex, bool, type(None))
_BRACKETS = {list: "[]", tuple: "()", dict: "{}", set: "{}", frozenset: "{}",
             collections.deque: "[]"}


def safe_repr(obj, limit=REPR_MAX):
    """A repr that cannot hurt the page: builtins are formatted by the
    console itself (containers shallowly, a few items each), other objects'
    ``__repr__`` runs under a time budget (Python code past it is
    interrupted; see docs/console.md for what cannot be), and anything that
    raises or is too long comes back as a short, truncated string."""
    try:
        return truncate(_repr(obj, 2), limit)
    except BaseException as e:   # a repr may raise anything, SystemExit too
        return f"<{type_name(type(obj))} object: repr raised " \
               f"{type_name(type(e))}>"


def _repr(obj, depth):
    tp = type(obj)
    if tp in _SCALARS:
        if tp is int and obj.bit_length() > 256:
            return f"<int of {obj.bit_length()} bits>"
        return repr(obj)
    if tp is str:
        return repr(obj[:REPR_MAX + 1])
    if tp in (bytes, bytearray):
        return repr(obj[:REPR_MAX + 1])
    if tp in _BRACKETS:
        return _container(obj, tp, depth)
    # issubclass on type(obj), not isinstance(obj, ...): isinstance falls
    # back to obj.__class__, which an object may compute (or raise from).
    if issubclass(tp, type):
        return f"<class {type_name(obj)}>"
    for base in _BRACKETS:
        if issubclass(tp, base) and base.__len__(obj) > BIG_CONTAINER:
            return _container(obj, base, depth)
    return _budgeted_repr(obj)


def _container(obj, base, depth):
    """A few items of obj, read through base's own methods (a subclass's
    overrides never run)."""
    n = base.__len__(obj)
    name = type_name(type(obj))
    if depth <= 0:
        return f"<{name} of {n} items>"
    if base is dict:
        items = [f"{_repr(k, depth - 1)}: {_repr(v, depth - 1)}"
                 for k, v in _first(dict.items(obj), 8)]
    else:
        items = [_repr(x, depth - 1) for x in _first(base.__iter__(obj), 8)]
    more = f", ... {n} items" if n > 8 else ""
    open_, close = _BRACKETS[base]
    body = open_ + ", ".join(items) + more + close
    if type(obj) in (list, tuple, dict, set):
        return body
    return f"{name}({body})"


def _first(iterable, n):
    out = []
    for x in iterable:
        if len(out) >= n:
            break
        out.append(x)
    return out


class _Tracer:
    """A trace function that raises TimeoutError once its deadline passed.
    A class, not a closure: a closure returning itself would be a
    reference cycle, garbage the collector has to find after every repr."""

    __slots__ = ("deadline",)

    def __init__(self, deadline):
        self.deadline = deadline

    def __call__(self, frame, event, arg):
        if time.monotonic() > self.deadline:
            raise TimeoutError("repr took too long")
        return self


def _budgeted_repr(obj):
    """Call obj's own __repr__, interrupting its Python code after
    REPR_BUDGET seconds (and every repr once the page's budget is spent)."""
    left = getattr(_budget, "left", None)
    if left is not None and left <= 0:
        return f"<{type_name(type(obj))} object>"
    now = time.monotonic()
    old = sys.gettrace()
    sys.settrace(_Tracer(now + REPR_BUDGET))
    try:
        r = repr(obj)
    finally:
        sys.settrace(old)
        if left is not None:
            _budget.left = left - (time.monotonic() - now)
    if type(r) is not str:
        return f"<{type_name(type(obj))} object>"
    return r[:REPR_MAX * 2]
