# SPDX-License-Identifier: MIT
"""The Threads page: the
Python stack of every thread and of every live tasklet (greenlet)."""
import gc
import sys
import threading
import traceback

from .common import esc, obj_link
from .saferepr import truncate, type_name

STACK_MAX = 40            # frames shown per stack
TASKLETS_MAX = 100        # tasklets shown on the Threads page
THREADS_MAX = 200         # threads shown on the Threads page


def stack(frame):
    out = []
    for f, lineno in traceback.walk_stack(frame):
        if len(out) >= STACK_MAX:
            break
        code = f.f_code
        out.append({"file": truncate(code.co_filename, 300),
                    "line": lineno, "function": truncate(code.co_name, 200)})
    return out


def page_threads(st, args):
    names = {t.ident: t.name for t in threading.enumerate()}
    me = threading.get_ident()
    frames = sys._current_frames()
    threads = []
    main = threading.main_thread().ident
    # The main thread first, the console's own worker last.
    for ident in sorted(frames, key=lambda i: (i != main, i == me))[
            :THREADS_MAX]:
        threads.append({"ident": ident,
                        "name": truncate(str(names.get(ident, "?")), 200),
                        "console_worker": ident == me,
                        "stack": stack(frames[ident])})
    total = len(frames)
    frames.clear()   # frames keep their locals alive; let them go now
    return {"threads": threads, "threads_total": total,
            "tasklets": tasklets(st)}


def tasklets(st):
    """Live tasklets (greenlets) with their stacks, when greenlet is in
    use; found by a bounded scan of gc-tracked objects."""
    gl = sys.modules.get("greenlet")
    if gl is None:
        return {"available": False,
                "message": "no tasklets: greenlet is not imported in this "
                           "process"}
    base = getattr(gl, "greenlet", None)
    if not isinstance(base, type):
        return {"available": False,
                "message": "no tasklets: this greenlet module has no "
                           "greenlet type"}
    found = []
    for obj in gc.get_objects():
        # type(obj), not isinstance(obj, base): isinstance would read each
        # object's __class__, which user code may compute or raise from.
        if issubclass(type(obj), base) and not obj.dead:
            found.append(obj)
            if len(found) >= TASKLETS_MAX:
                break
    out = []
    for g in found:
        try:
            frame = g.gr_frame
        except Exception:
            frame = None
        h, href, label = obj_link(st, g)
        out.append({"handle": h, "href": href, "type": type_name(type(g)),
                    "repr": label, "stack": stack(frame) if frame else [],
                    "running": bool(frame is None)})
    del found
    return {"available": True, "tasklets": out}


def render_stack(stack):
    if not stack:
        return '<p class="muted">(running or not started: no suspended ' \
               "frame)</p>\n"
    lines = "".join(f"{esc(s['file'])}:{s['line']} in {esc(s['function'])}"
                    "\n" for s in reversed(stack))
    return f'<pre class="stack">{lines}</pre>\n'


def render_threads(st, d):
    out = [f"<h2>Threads ({d['threads_total']}, at most {THREADS_MAX} "
           "shown)</h2>\n"]
    for t in d["threads"]:
        mark = " (the console's worker, rendering this page)" \
            if t["console_worker"] else ""
        out.append(f'<h3 class="thread">{esc(t["name"])} '
                   f'<span class="muted">{t["ident"]}{mark}</span></h3>\n')
        out.append(render_stack(t["stack"]))
    tk = d["tasklets"]
    out.append("<h2>Tasklets</h2>\n")
    if not tk["available"]:
        out.append(f'<p class="note">{esc(tk["message"])}</p>\n')
    else:
        out.append(f"<p>{len(tk['tasklets'])} live (at most "
                   f"{TASKLETS_MAX} shown).</p>\n")
        for t in tk["tasklets"]:
            out.append(f'<h3><a href="{esc(t["href"])}">{esc(t["repr"])}'
                       "</a></h3>\n")
            out.append(render_stack(t["stack"]))
    return "".join(out)
