# SPDX-License-Identifier: MIT
"""Routing for the console's Python pages: path to page, page to HTML or
JSON, and the two POST actions.

An HTML page returns its title and the body inside the page; the C worker
(pyhost/console/_server/worker.c) puts the page shell around it, the same
shell the pages rendered in C have, so no Python code builds it."""
import json
import time

from .common import HTTPError, optional
from .gcpage import action_collect, page_gc, render_gc
from .leakview import RANK_LIMIT, page_leaks, render_leaks
from .memory import census, page_memory, render_memory
from .objects import page_object, render_object
from .overview import page_modules, page_overview, render_modules, \
    render_overview
from .saferepr import begin_page, end_page, safe_repr, type_name
from .threads import page_threads, render_threads


def action_snapshot(st):
    """POST /action/snapshot: the census and a pyhost.leaks snapshot, the
    base of the Memory page's growth and the Leaks page's diff."""
    st.snapshot_census = census(st)
    st.snapshot_time = time.time()
    leaks = optional("pyhost.leaks")
    if leaks is not None:
        st.leaks_snapshot = None   # let the old one go first
        st.leaks_snapshot = leaks.snapshot(rank_limit=RANK_LIMIT)


_ACTIONS = {"collect": action_collect, "snapshot": action_snapshot}
_BACK = {"gc": "/gc", "memory": "/memory", "leaks": "/leaks?view=diff"}

_PAGES = {
    "": ("Overview", page_overview, render_overview),
    "modules": ("Modules", page_modules, render_modules),
    "memory": ("Memory", page_memory, render_memory),
    "leaks": ("Leaks", page_leaks, render_leaks),
    "threads": ("Threads and tasklets", page_threads, render_threads),
    "gc": ("GC", page_gc, render_gc),
}


# ------------------------------------------------------------- dispatch

HTML = "text/html; charset=utf-8"


def handle(st, method, path, args):
    """Answer one request with st, the running console's state: returns
    (status, content type, body bytes[, location[, title]]).  With a title,
    body is the inside of an HTML page and the C worker wraps it in the page
    shell.  Called by the GIL worker for every request that needs Python;
    the C side already checked the token, the Host, the sizes and, for POST,
    the CSRF token."""
    begin_page()
    try:
        return _route(st, method, path, args)
    except HTTPError as e:
        return (e.status, "text/plain; charset=utf-8",
                f"{e.status} {e.message}\n".encode())
    except Exception as e:
        # No traceback to the client; the name of the error only.
        return (500, "text/plain; charset=utf-8",
                f"500 page failed: {type_name(type(e))}\n".encode())
    finally:
        end_page()


def _route(st, method, path, args):
    if method == "POST":
        name = path[len("/action/"):] if path.startswith("/action/") else None
        if name not in _ACTIONS:
            raise HTTPError(404, "no such action")
        back = args.get("back")
        _ACTIONS[name](st)
        return (303, "text/plain; charset=utf-8", b"done\n",
                _BACK.get(back, "/"))
    if path.startswith("/action/"):
        raise HTTPError(405, "actions need POST (with the CSRF token)")
    as_json = path.startswith("/api/")
    rest = path[len("/api/"):] if as_json else path[1:]
    rest = rest.rstrip("/")
    if rest.startswith("object/"):
        title = "Object"
        data = page_object(st, args, rest[len("object/"):])
        render = render_object
    elif rest in _PAGES:
        title, page, render = _PAGES[rest]
        data = page(st, args)
    else:
        raise HTTPError(404, "no such page")
    if as_json:
        # < > & only occur inside JSON strings; escaping them keeps the
        # body inert even for a client that sniffs it as HTML.
        body = json.dumps(data, default=safe_repr, ensure_ascii=True) \
            .replace("<", "\\u003c").replace(">", "\\u003e") \
            .replace("&", "\\u0026")
        return 200, "application/json", body.encode()
    body = render(st, data).encode("utf-8", "backslashreplace")
    return 200, HTML, body, None, title
