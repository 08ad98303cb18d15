# SPDX-License-Identifier: MIT
"""A small "server" that leaks, for `make run` (python -m pyhost.leaks).

It handles a few hundred fake requests.  Its C helper (pyhost's test-only
extension pyhost._testing._leaky, or ctypes when that is not installed)
makes the three classic C-extension mistakes:

1. a reply buffer built in C whose last reference is lost: an orphan that
   keeps 2,000 small lists alive;
2. Py_INCREF on the session list the module keeps in SESSIONS, never
   released: the list is still referenced normally, only its count is off;
3. an extra reference on a str, an int and a float it returns.

It also fills a cache once, which is not a leak.
"""
try:
    from pyhost._testing import _leaky
except ImportError:  # installed without the test extension: same bugs
    _leaky = None

SESSIONS = []               # one list per user, kept on purpose
CACHE = {}                  # filled once: not a leak
LAST_USER = LAST_SCORE = LAST_RATIO = None


def c_forgets_decref(obj):
    """What a C function does when it calls Py_INCREF and no Py_DECREF."""
    if _leaky is not None:
        _leaky.leak_ref(obj)
    else:
        import ctypes
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def build_reply_in_c(size):
    """A C function that builds a reply buffer and loses it."""
    if _leaky is not None:
        _leaky.make_orphan(size)
    else:
        reply = [[i] for i in range(size)]
        c_forgets_decref(reply)


def handle(request_id):
    global LAST_USER, LAST_SCORE, LAST_RATIO
    CACHE.setdefault("templates", [f"<p>{n}</p>" for n in range(50)])
    if request_id == 100:
        build_reply_in_c(2000)                        # mistake 1
    if request_id % 100 == 0:
        session = [f"user-{request_id}", request_id]
        SESSIONS.append(session)
        c_forgets_decref(session)                     # mistake 2
    if request_id == 250:
        LAST_USER = "user-" + str(request_id * 7919)
        LAST_SCORE = request_id * 10**12
        LAST_RATIO = request_id / 7.0
        c_forgets_decref(LAST_USER)                   # mistake 3
        c_forgets_decref(LAST_SCORE)
        c_forgets_decref(LAST_RATIO)
    return len(CACHE["templates"])


def main():
    for request_id in range(1, 301):
        handle(request_id)
    print(f"leaky_workload: handled 300 requests, {len(SESSIONS)} sessions")


if __name__ == "__main__":
    main()
