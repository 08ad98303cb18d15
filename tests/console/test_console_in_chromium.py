# SPDX-License-Identifier: MIT
"""The browser test: Debian's chromium, driven by playwright-core from npm
(tests/console/browser.mjs), walks the console like a developer would."""
import json
import os
import shutil
import subprocess
import threading

import pytest

from pyhost import console

from testenv import scaled

from console_helpers import HERE, PATIENT_DEADLINE, client_env

ROOT = os.path.dirname(os.path.dirname(HERE))
CHROMIUM = "/usr/bin/chromium"
HOSTILE = "<img src=x onerror=alert(1)>"

pytest.importorskip("pyhost.leaks", reason="the walk starts on the Leaks "
                    "page, which needs pyhost.leaks (-Dparts with leaks)")
if shutil.which("node") is None or not os.path.exists(CHROMIUM):
    pytest.skip("needs node and Debian's chromium (make test installs both)",
                allow_module_level=True)
if not os.path.isdir(os.path.join(ROOT, "node_modules", "playwright-core")):
    pytest.skip("needs playwright-core: run `npm install` at the repository "
                "root (make test does)", allow_module_level=True)


class BrowserLeak:
    """Leaked on purpose; its repr tries to inject markup."""

    def __init__(self):
        self.payload = ["payload item"]

    def __repr__(self):
        return f"BrowserLeak{HOSTILE}"


class GrowsDuringTheTest:
    pass


def test_browser_walk(artifacts_dir, leak):
    url = console.start(sample_interval=0.2, deadline=PATIENT_DEADLINE)
    leak(BrowserLeak())
    stop = threading.Event()

    def keep_leaking():
        while not stop.wait(0.05):
            leak(GrowsDuringTheTest())

    t = threading.Thread(target=keep_leaking)
    t.start()
    try:
        proc = subprocess.run(
            ["node", os.path.join(HERE, "browser.mjs"), url,
             str(artifacts_dir), "BrowserLeak", "GrowsDuringTheTest"],
            capture_output=True, text=True, timeout=scaled(120), cwd=ROOT,
            env=client_env())
    finally:
        stop.set()
        t.join()
        console.stop()
    assert proc.returncode == 0, proc.stderr + proc.stdout
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    steps = {s[0]: s[1:] for s in seen["steps"]}
    status, final_url, h1 = steps["overview"]
    assert status == 200 and h1 == "Overview"
    assert "token=" not in final_url   # traded for a cookie
    assert steps["leaks"][0] >= 1
    h1, repr_text, type_rows = steps["object"]
    assert h1 == "Object" and HOSTILE in repr_text   # shown as text
    assert steps["referent"][0] is True
    assert steps["referrer"][0] is True and HOSTILE in steps["referrer"][1]
    diff_url, grown_rows, orphan_rows = steps["diff"]
    assert diff_url.endswith("/leaks?view=diff")
    assert grown_rows >= 1 and orphan_rows >= 1
    assert steps["memory"][0] >= 1
    assert seen["dialogs"] == 0 and seen["pageErrors"] == []
    for name in ("overview", "leaks", "object", "diff", "memory"):
        png = artifacts_dir / f"console-{name}.png"
        assert png.stat().st_size > 5000
