# SPDX-License-Identifier: MIT
"""The pages: each answers as HTML and as JSON, shows what it promises,
paginates and sorts, and survives hostile objects."""
import collections
import gc
import re
import sys
import threading
import time
import types

import pytest

from pyhost import console
from testenv import scaled

from console_helpers import PATIENT_DEADLINE, Client

PY_PAGES = ["/", "/modules", "/memory", "/leaks", "/threads", "/gc"]
C_PAGES = ["/process", "/responsiveness"]


@pytest.mark.parametrize("path", PY_PAGES + C_PAGES)
def test_every_page_as_html_and_json(client, path):
    r = client.get(path)
    assert r.status == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text.startswith("<!DOCTYPE html>")
    for nav in ("Overview", "Modules", "Memory", "Leaks", "Threads", "GC",
                "Process", "Responsiveness"):
        assert f">{nav}</a>" in r.text
    j = client.get("/api" + path)
    assert j.status == 200
    assert j.headers["content-type"] == "application/json"
    assert isinstance(j.json(), dict)


@pytest.mark.parametrize("path", PY_PAGES + C_PAGES +
                         ["/static/console.css", "/nope", "/object/zzzzzzzz"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp   # no script at all
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "charset" in r.headers["content-type"] or \
        r.headers["content-type"] == "application/json"


def test_no_page_has_a_script(client):
    for path in PY_PAGES + C_PAGES:
        assert "<script" not in client.get(path).text.lower()


def test_process_page_reads_proc(client):
    import os
    d = client.json("/api/process")
    assert d["pid"] == os.getpid()
    assert d["rss_kb"] > 1000 and d["peak_rss_kb"] >= d["rss_kb"]
    assert d["threads"] == len(d["thread_list"]) >= 3
    assert d["open_fds"] >= 3
    assert d["uptime_s"] >= 0
    names = [t["name"] for t in d["thread_list"]]
    assert any("python" in n or "pytest" in n for n in names)


def test_overview(client):
    import sys
    d = client.json("/api/")
    assert d["python"] == sys.version
    assert d["executable"] == sys.executable
    assert [p["entry"] for p in d["sys_path"]] == \
        [p for p in sys.path if isinstance(p, str)][:200]
    assert d["flags"]["optimize"] == sys.flags.optimize
    assert d["console"]["port"] == client.port
    # Not under the launcher: the page says so.
    assert d["isolation"]["available"] is False
    assert "not running under the pyhost launcher" in \
        d["isolation"]["message"]
    html = client.get("/").text
    assert "not running under the pyhost launcher" in html


def test_modules_paginate_and_sort(client):
    d = client.json("/api/modules?per=5&page=2&sort=name&order=asc")
    import sys
    names = sorted(n for n in sys.modules if isinstance(n, str))
    assert d["total"] == len(names) or abs(d["total"] - len(names)) < 5
    assert d["page"] == 2 and len(d["rows"]) == 5
    got = [r["name"] for r in d["rows"]]
    assert got == sorted(got)
    first = client.json("/api/modules?per=5&sort=name&order=asc")["rows"]
    assert first[-1]["name"] <= got[0]
    d = client.json("/api/modules?per=500&sort=name")
    row = next(r for r in d["rows"] if r["name"] == "pyhost.console")
    assert row["origin"].endswith("console/__init__.py")
    assert row["inside_roots"] is None   # unknown without the launcher
    assert "not running under the pyhost launcher" in d["note"]
    html = client.get("/modules?per=5").text
    assert 'rel="next"' in html and "sort=origin" in html


def poll(fetch, done):
    """fetch() until done(result) (a sampler's next sample has come), or
    fail after a hang guard; return the last result."""
    give_up = time.monotonic() + scaled(30)
    while True:
        result = fetch()
        if done(result):
            return result
        assert time.monotonic() < give_up, result
        time.sleep(0.05)


def test_memory_history_and_growth():
    """The Memory page keeps a history of census samples, and after a
    snapshot shows each type's growth since it, the fastest first."""
    url = console.start(sample_interval=0.05, deadline=PATIENT_DEADLINE)
    try:
        c = Client(url)
        d = poll(lambda: c.json("/api/memory"), lambda d: d["samples"] >= 3)
        assert d["snapshot_time"] is None
        assert "gc-tracked" in d["counted"]

        class GrowingThing:
            pass

        r = c.post("/action/snapshot?back=memory", c.csrf())
        assert r.status == 303 and r.headers["location"] == "/memory"
        keep = [GrowingThing() for _ in range(3000)]
        # The page shows the latest sample: wait for one taken after keep.
        d = poll(lambda: c.json("/api/memory?sort=growth&per=20"),
                 lambda d: d["rows"][0]["type"].endswith("GrowingThing")
                 and d["rows"][0]["growth"] == 3000)
        assert d["snapshot_time"] is not None
        top = d["rows"][0]
        assert top["growth"] == 3000 and top["at_snapshot"] == 0
        html = c.get("/memory?sort=growth").text
        assert "<svg" in html and "<polyline" in html
        assert "GrowingThing" in html
        del keep
    finally:
        console.stop()


def test_census_leaves_out_the_consoles_own_objects(client):
    d0 = client.json("/api/memory?per=500")
    before = {r["type"]: r["count"] for r in d0["rows"]}
    objs = [type("C%d" % i, (), {})() for i in range(300)]
    for o in objs:
        console.object_url(o)   # 300 weakrefs and table entries
    real = sum(1 for o in gc.get_objects() if type(o).__name__ ==
               "ReferenceType")
    client.post("/action/snapshot", client.csrf())
    d1 = client.json("/api/memory?per=500")
    after = {r["type"]: r["count"] for r in d1["rows"]}
    assert real >= 300
    grown = after.get("weakref.ReferenceType", after.get("ReferenceType", 0)) \
        - before.get("weakref.ReferenceType",
                     before.get("ReferenceType", 0))
    # The 300 classes made weakrefs of their own (subclass lists); the
    # console's 300 handle weakrefs are not counted on top.
    assert grown < 300 + 300 // 2, grown
    del objs


def test_object_page_links_referents_and_referrers(client):
    class Node:
        def __init__(self, name):
            self.name = name
            self.children = []

    root = Node("root")
    child = Node("child")
    root.children.append(child)
    page = client.get(console.object_url(root))
    assert page.status == 200
    d = client.json("/api" + console.object_url(root))
    assert d["type"].endswith("Node")
    assert d["size"] > 0 and d["gc_tracked"] is True
    assert "Node object" in d["repr"]
    # Follow a referent: the children list (through the instance dict on
    # versions that keep one), then the child; and back from the child
    # through a referrer.
    refs = d["referents"]
    dict_ref = next((r for r in refs if r["type"] == "dict"), None)
    if dict_ref is not None:
        refs = client.json("/api" + dict_ref["href"])["referents"]
    lst = next(r for r in refs if r["type"] == "list")
    ld = client.json("/api" + lst["href"])
    ch = next(r for r in ld["referents"] if r["type"].endswith("Node"))
    cd = client.json("/api" + ch["href"])
    assert any(r["href"] == lst["href"] for r in cd["referrers"])
    # The type page is an object page too.
    td = client.json("/api" + d["type_href"])
    assert td["type"] == "type"
    # The console's own lists and frames are not listed as referrers.
    assert all("frame" not in r["type"] for r in cd["referrers"])
    html = page.text
    assert 'id="referents"' in html and 'id="referrers"' in html
    del root, child


def test_object_page_back_reference_chain(client):
    global _KEPT
    _KEPT = {"holder": [object()]}
    target = _KEPT["holder"][0]
    try:
        d = client.json("/api" + console.object_url(target))
        chain = d["chain"]
        try:
            import pyhost.leaks  # noqa: F401 (is the part built?)
        except ImportError:
            assert chain["available"] is False
            assert "pyhost.leaks" in chain["message"]
            return
        links = chain["links"]
        assert links[0]["type"] == "module"
        assert links[-1]["href"] == console.object_url(target)
        assert [x["type"] for x in links[-2:]] == ["list", "object"]
        html = client.get(console.object_url(target)).text
        assert '<ol id="chain">' in html
    finally:
        del _KEPT


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


class Raises:
    def __repr__(self):
        raise RuntimeError("no repr for you")


class Hangs:
    def __repr__(self):
        while True:
            pass


class Huge:
    def __repr__(self):
        return "x" * 5_000_000


class Exits:
    def __repr__(self):
        raise SystemExit(3)


class Evil:
    def __repr__(self):
        return HOSTILE


class WeirdModule:
    __module__ = property(lambda self: 1 / 0)


def test_safe_repr_of_hostile_objects():
    assert "repr raised RuntimeError" in console.safe_repr(Raises())
    assert "repr raised SystemExit" in console.safe_repr(Exits())
    # A repr that never returns is interrupted by its time budget.
    assert "TimeoutError" in console.safe_repr(Hangs())
    r = console.safe_repr(Huge())
    assert len(r) < 1000 and "chars)" in r
    assert console.safe_repr("a" * 10_000).endswith("chars)")
    assert console.safe_repr(10 ** 5000) == "<int of 16610 bits>"
    assert console.safe_repr({HOSTILE: [1, 2]}).startswith("{'<script>")
    assert "WeirdModule" in console.safe_repr(WeirdModule)
    assert "items" in console.safe_repr(list(range(100)))


class LoudDict(dict):
    """A dict subclass whose own methods must not run for a big one."""

    def __repr__(self):
        raise AssertionError("the full repr ran")

    def __len__(self):
        raise AssertionError("the overridden __len__ ran")

    def items(self):
        raise AssertionError("the overridden items() ran")


def test_big_builtin_container_subclasses_are_summarized():
    """A big deque, OrderedDict or dict subclass is summarized by the
    console, not formatted in full by its own __repr__ (which runs in C over
    every item, where no time budget reaches) and then cut; small ones keep
    their own repr."""
    r = console.safe_repr(collections.deque(range(1_000_000)))
    assert r.startswith("collections.deque([0, 1, 2")
    assert "1000000 items" in r
    od = collections.OrderedDict((i, str(i)) for i in range(100_000))
    assert "100000 items" in console.safe_repr(od)
    r = console.safe_repr(LoudDict((i, i) for i in range(100)))
    assert "100 items" in r and "AssertionError" not in r
    point = collections.namedtuple("Point", "x y")
    assert console.safe_repr(point(1, 2)) == "Point(x=1, y=2)"
    assert console.safe_repr(frozenset([1])) == "frozenset({1})"


class ClassRaises:
    """An object whose __class__ is computed, and raises."""

    @property
    def __class__(self):
        raise RuntimeError("no class for you")

    def __repr__(self):
        return "ClassRaises-own-repr"


def test_a_raising___class___does_not_break_reprs_or_pages(client):
    """An object whose __class__ raises keeps its own repr, and the Threads
    page, which scans every object for tasklets, still answers 200 with
    such an object on the heap."""
    pytest.importorskip("greenlet", reason="the tasklet scan needs greenlet")
    victim = ClassRaises()
    assert console.safe_repr(victim) == "ClassRaises-own-repr"
    r = client.get("/api/threads")
    assert r.status == 200, r.text
    assert r.json()["tasklets"]["available"]
    del victim


class StrRaises:
    def __str__(self):
        raise RuntimeError("no str")

    def __repr__(self):
        return "StrRaises-origin"


def test_a_module_with_a_hostile_origin_does_not_break_modules(client):
    """A module whose __spec__.origin cannot be turned into a string is
    listed on the Modules page, its origin shown by its repr."""
    mod = types.ModuleType("pyhost_console_hostile_origin")
    mod.__spec__ = types.SimpleNamespace(origin=StrRaises())
    sys.modules[mod.__name__] = mod
    try:
        d = client.json("/api/modules?per=500&sort=name")
        pages = d["pages"]
        rows = d["rows"]
        for page in range(2, pages + 1):
            rows += client.json(f"/api/modules?per=500&sort=name&page={page}")[
                "rows"]
        row = next(r for r in rows if r["name"] == mod.__name__)
        assert row["origin"] == "StrRaises-origin"
    finally:
        del sys.modules[mod.__name__]


def test_hostile_reprs_are_escaped_on_pages(client):
    objs = {HOSTILE: Evil(), "raises": Raises(), "hangs": Hangs(),
            "huge": Huge(), "weird": WeirdModule()}
    # 200, not 503: the hanging repr was cut short within the page's
    # deadline.
    r = client.get(console.object_url(objs))
    assert r.status == 200
    assert "<script>" not in r.text and "<img" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert len(r.body) < 200_000
    for o in objs.values():
        r = client.get(console.object_url(o))
        assert r.status == 200
        assert "<script>" not in r.text and "<img" not in r.text
    j = client.get("/api" + console.object_url(objs))
    assert "<script>" not in j.text   # JSON escapes < and > too


def test_hostile_thread_and_module_names_are_escaped(client):
    import sys
    import types
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name=HOSTILE)
    t.start()
    sys.modules[HOSTILE] = types.ModuleType("m")
    try:
        for path in ("/threads", "/modules?per=500", "/process"):
            html = client.get(path).text
            assert "<script>" not in html and "<img" not in html
        assert "&lt;script&gt;" in client.get("/threads").text
    finally:
        del sys.modules[HOSTILE]
        stop.set()
        t.join()


def test_json_escapes_ampersand_like_lt_and_gt(client):
    """The C pages' JSON escapes < > & (as the Python pages' JSON does), so
    an OS thread name cannot put markup into /api/process."""
    name = "a&b<c>d"
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        with open(f"/proc/self/task/{t.native_id}/comm", "w") as f:
            f.write(name)
        r = client.get("/api/process")
        assert r.status == 200
        assert b"&" not in r.body and b"<" not in r.body
        names = [x["name"] for x in r.json()["thread_list"]]
        assert name in names
    finally:
        stop.set()
        t.join()


def parked_in_a_known_function(event):
    event.wait()


def test_threads_page_shows_every_stack(client):
    ev = threading.Event()
    t = threading.Thread(target=parked_in_a_known_function, args=(ev,),
                         name="the-parked-thread")
    t.start()
    try:
        d = client.json("/api/threads")
        th = next(x for x in d["threads"] if x["name"] == "the-parked-thread")
        assert any(f["function"] == "parked_in_a_known_function"
                   for f in th["stack"])
        main = next(x for x in d["threads"] if x["name"] == "MainThread")
        assert main["stack"]
        assert sum(x["console_worker"] for x in d["threads"]) == 1
        html = client.get("/threads").text
        assert "the-parked-thread" in html
        assert "parked_in_a_known_function" in html
    finally:
        ev.set()
        t.join()


def test_threads_page_lists_live_tasklets(client):
    greenlet = pytest.importorskip("greenlet", reason="greenlet not installed")

    def tasklet_body():
        greenlet.getcurrent().parent.switch()

    g = greenlet.greenlet(tasklet_body)
    g.switch()   # now suspended inside tasklet_body
    try:
        d = client.json("/api/threads")
        assert d["tasklets"]["available"]
        mine = [t for t in d["tasklets"]["tasklets"]
                if any(f["function"] == "tasklet_body" for f in t["stack"])]
        assert len(mine) == 1
        assert "tasklet_body" in client.get("/threads").text
    finally:
        g.switch()
    assert g.dead


def test_gc_page(client):
    d = client.json("/api/gc")
    assert d["thresholds"] == list(gc.get_threshold())
    assert len(d["stats"]) == 3 and d["enabled"] == gc.isenabled()
    html = client.get("/gc").text
    assert 'action="/action/collect?back=gc"' in html
    assert re.search(r'name="csrf" value="[0-9a-f]{48}"', html)


def test_pages_without_pyhost_leaks(client, monkeypatch):
    """Where pyhost.leaks is not built (a sys.modules entry of None makes
    its import fail the same way), the Leaks page and the object page's
    chain say so instead of failing."""
    monkeypatch.setitem(sys.modules, "pyhost.leaks", None)
    d = client.json("/api/leaks")
    assert d["available"] is False and "not built" in d["message"]
    assert "not built" in client.get("/leaks").text
    chain = client.json("/api" + console.object_url(client))["chain"]
    assert chain["available"] is False and "pyhost.leaks" in chain["message"]
    # The census falls back to its own count of gc-tracked objects.
    m = client.json("/api/memory?per=5")
    assert m["rows"] and m["objects"] > 1000


class _FakeEmbed:
    """Stands in for the launcher's built-in _pyhost_embed module, with the
    interface src/libpyhost/embedmodule.c gives it: config() and audit()."""

    def __init__(self, root):
        self.root = root

    def config(self):
        return {"path": [self.root], "path_file": self.root + "/x._pth",
                "site": False, "roots": [self.root],
                "executable": self.root + "/pyhost", "scrubbed": []}

    def audit(self):
        return [("sys", None, True),
                ("inside_mod", self.root + "/inside_mod.py", True),
                ("evil_mod", "/tmp/elsewhere/evil_mod.py", False)]


def test_isolation_audit_under_the_launcher(client, monkeypatch):
    monkeypatch.setitem(sys.modules, "_pyhost_embed", _FakeEmbed("/app"))
    monkeypatch.setitem(sys.modules, "inside_mod", types.ModuleType("i"))
    monkeypatch.setitem(sys.modules, "evil_mod", types.ModuleType("e"))
    d = client.json("/api/")
    iso = d["isolation"]
    assert iso["available"] and iso["modules"] == 3
    assert iso["outside_count"] == 1
    assert iso["outside_roots"] == [{"module": "evil_mod",
                                     "file": "/tmp/elsewhere/evil_mod.py"}]
    assert iso["config"]["roots"] == ["/app"]
    html = client.get("/").text
    assert "1 from outside the configured roots" in html
    rows = {r["name"]: r for r in
            client.json("/api/modules?per=500")["rows"]}
    assert rows["evil_mod"]["inside_roots"] is False
    assert rows["inside_mod"]["inside_roots"] is True
    assert client.json("/api/modules")["note"] is None
