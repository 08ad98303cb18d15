# SPDX-License-Identifier: MIT
"""The console under the pyhost launcher: `pyhost --console HOST:PORT`
starts it, and the Overview and Modules pages show the launcher's isolation
audit (from _pyhost_embed)."""
import os
import subprocess
import sysconfig

import pytest

from console_helpers import Client

LAUNCHER = os.path.join(sysconfig.get_path("scripts"), "pyhost")
if not os.access(LAUNCHER, os.X_OK):
    pytest.skip("the pyhost launcher is not built (-Dparts without embed)",
                allow_module_level=True)


def test_launcher_starts_the_console_with_the_isolation_audit(tmp_path):
    pth = tmp_path / "app._pth"
    pth.write_text("\n".join([sysconfig.get_path("stdlib"),
                              sysconfig.get_config_var("DESTSHARED"),
                              sysconfig.get_path("platlib")]) + "\n")
    proc = subprocess.Popen(
        [LAUNCHER, "--paths", str(pth), "--console", "127.0.0.1:0", "-c",
         "import sys; sys.stdin.readline()"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert line.startswith("pyhost console: http://127.0.0.1:"), line
        c = Client(line.split(": ", 1)[1].strip())
        iso = c.json("/api/")["isolation"]
        assert iso["available"] is True
        assert iso["config"]["path_file"] == str(pth.resolve())
        assert iso["modules"] > 10
        rows = c.json("/api/modules?per=500")["rows"]
        assert c.json("/api/modules")["note"] is None
        by_name = {r["name"]: r for r in rows}
        assert by_name["pyhost.console"]["inside_roots"] is True
        assert "from outside the configured roots" in c.get("/").text
        assert c.get("/process").status == 200
    finally:
        proc.stdin.close()   # the program returns; the console stops at exit
        rc = proc.wait(timeout=60)
    assert rc == 0, proc.stderr.read()
