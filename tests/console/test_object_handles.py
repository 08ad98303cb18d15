# SPDX-License-Identifier: MIT
"""Object handles, the opaque names the console gives objects in its links
(pyhost.console.object_url()): a handle that must hold its object strongly
lets it go after its time to live, and the handle table stays consistent
while many threads make handles and pages read it."""
import gc
import sys
import threading
import weakref

from pyhost import console
from pyhost.console.pages import handles


class Payload:
    pass


def test_expired_strong_handles_let_their_objects_go(client, monkeypatch):
    """A dict cannot be weakly referenced, so its handle holds it, but only
    for STRONG_TTL: after that the console lets it go (a console that keeps
    objects alive hides the leaks it is there to show), and the handle's
    page answers 410 "handle expired"."""
    monkeypatch.setattr(handles, "STRONG_TTL", 0.05)
    monkeypatch.setattr(handles, "SWEEP_INTERVAL", 0.0, raising=False)
    payload = Payload()
    alive = weakref.ref(payload)
    held = {"payload": payload}
    path = console.object_url(held)
    del held, payload
    gc.collect()
    assert alive() is not None   # kept by its handle, as documented
    threading.Event().wait(0.1)   # past STRONG_TTL
    console.object_url(object())  # any later use of the table sweeps it
    gc.collect()
    assert alive() is None
    r = client.get(path)
    assert r.status == 410 and "handle expired" in r.text


def test_object_url_from_many_threads_while_pages_render(client, monkeypatch):
    """Four threads make thousands of handles, switching every microsecond,
    while the console's worker renders pages that read the same table: no
    thread sees an error (KeyError, "dictionary changed size") and the table
    stays within its bound."""
    monkeypatch.setattr(handles, "SWEEP_INTERVAL", 0.0, raising=False)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    errors = []

    def make_handles():
        keep = []
        try:
            for i in range(2000):
                keep.append({"i": i})   # not weakrefable: a strong entry
                console.object_url(keep[-1])
        except Exception as e:   # noqa: BLE001 (any error is the finding)
            errors.append(repr(e))

    try:
        threads = [threading.Thread(target=make_handles) for _ in range(4)]
        for t in threads:
            t.start()
        for _ in range(5):
            assert client.get("/api/memory").status == 200
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert client.json("/api/")["console"]["handles"] <= handles.HANDLES_MAX
