# SPDX-License-Identifier: MIT
"""The Leaks page, on pyhost.leaks: orphans and external holds grouped by
type, objects opened from it, snapshot and diff; and its answers on a heap
of a million objects (how fast is measured by bench/console.py)."""
import gc

import pytest

from pyhost import console

from console_helpers import PATIENT_DEADLINE, Client

leaks = pytest.importorskip(
    "pyhost.leaks", reason="pyhost.leaks is not built (-Dparts without "
                           "leaks); the page then says so, see "
                           "test_pages_html_and_json.py")


class LeakedByTheConsoleTest:
    def __init__(self):
        self.payload = ["inner"] * 3


def test_orphans_are_grouped_and_openable(client, leak):
    leak(LeakedByTheConsoleTest())
    d = client.json("/api/leaks?per=500")
    assert d["available"] and d["view"] == "orphans"
    group = next(g for g in d["rows"]
                 if g["type"].endswith("LeakedByTheConsoleTest"))
    assert group["count"] >= 1 and group["samples"]
    obj = client.json("/api" + group["samples"][0]["href"])
    assert obj["type"].endswith("LeakedByTheConsoleTest")
    assert obj["referrers"] == []   # that is what an orphan is
    html = client.get("/leaks").text
    assert "LeakedByTheConsoleTest" in html and 'id="leak-groups"' in html


def test_external_holds_show_the_excess(client, leak):
    held = ["held from C"]
    leak(held)
    leak(held)
    d = client.json("/api/leaks?view=external&per=500&sort=excess")
    assert any(g["type"] == "list" and g["excess"] >= 2 for g in d["rows"])


def test_snapshot_then_diff_shows_what_appeared(client, leak):
    r = client.json("/api/leaks?view=diff")
    assert "no snapshot yet" in r["message"]
    r = client.post("/action/snapshot?back=leaks", client.csrf())
    assert r.status == 303 and r.headers["location"] == "/leaks?view=diff"

    class AppearedAfterSnapshot:
        pass

    keep = [AppearedAfterSnapshot() for _ in range(500)]
    leak(AppearedAfterSnapshot())
    d = client.json("/api/leaks?view=diff&per=500")
    grown = next(g for g in d["grown"]
                 if g["type"].endswith("AppearedAfterSnapshot"))
    assert grown["count_delta"] == 501
    assert grown["samples"]
    assert any(g["type"].endswith("AppearedAfterSnapshot")
               for g in d["rows"])   # the leaked one is a new orphan
    html = client.get("/leaks?view=diff").text
    assert 'id="grown"' in html and "AppearedAfterSnapshot" in html
    del keep


def test_bad_leak_arguments(client):
    assert client.get("/leaks?view=nope").status == 400
    assert client.get("/leaks?sort=address").status == 400


@pytest.mark.slow
def test_leak_page_answers_on_a_million_objects(leak):
    """On a heap of a million gc-tracked objects, every view of the Leaks
    page answers 200 with the leaked object in it, and paginated (not the
    whole heap).  The page deadline here is patient: the 1 s default is a
    benchmark row in bench/console.py, not a test."""
    client = Client(console.start(sample_interval=0,
                                  deadline=PATIENT_DEADLINE))
    try:
        class Item:
            __slots__ = ("v",)

        heap = [[Item()] for _ in range(500_000)]   # 1,000,000 gc objects
        assert len(gc.get_objects()) >= 1_000_000
        leak(LeakedByTheConsoleTest())
        held = ["held from C on a big heap"]
        leak(held)
        gc.collect()
        for path in ("/leaks", "/leaks?page=2&per=20", "/leaks?view=external"):
            r = client.get(path)
            assert r.status == 200, (path, r.text[:200])
            assert len(r.body) < 1_000_000   # paginated, not the whole heap
        assert "LeakedByTheConsoleTest" in client.get("/leaks?per=500").text
        d = client.json("/api/leaks?per=500")
        assert any(g["type"].endswith("LeakedByTheConsoleTest")
                   for g in d["rows"]), [g["type"] for g in d["rows"]]
        d = client.json("/api/leaks?view=external&per=500&sort=excess")
        assert any(g["type"] == "list" and g["excess"] >= 1
                   for g in d["rows"])
        del heap
    finally:
        console.stop()
