# SPDX-License-Identifier: MIT
"""Forged bytecode (docs/embed.md, "Forged bytecode"): a timestamp .pyc in
a writable __pycache__ whose header matches the source's mtime and size is
trusted by every mode, pyhost's folder entries included; a zip entry (what
`pyhost bundle` makes) never consults a __pycache__, so only the zip's own
content runs.  These tests keep the documented behaviour true."""
import importlib._bootstrap_external as bootstrap
import os
import zipfile

import embedtools
from embedtools import run

TAG = "cpython-%d%d" % tuple(os.sys.version_info[:2])


def forge(folder):
    """mod.py says 'genuine'; plant a pyc beside it that says 'forged'."""
    src = folder / "mod.py"
    src.write_text("WHO = 'genuine'\n")
    st = os.stat(src)
    code = compile("WHO = 'forged'\n", str(src), "exec")
    cache = folder / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / ("mod.%s.pyc" % TAG)).write_bytes(
        bootstrap._code_to_timestamp_pyc(code, st.st_mtime, st.st_size))


def test_forged_pyc_in_a_folder_entry_is_trusted(launcher, pth, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    forge(app)
    show = "import mod; print(mod.WHO)"
    for cmd in ([launcher, "--paths", pth(app), "-c", show],
                [embedtools.BASE_PYTHON, "-I", "-c",
                 "import sys; sys.path.insert(0, %r); %s" % (str(app), show)]):
        p = run(cmd)
        assert p.stdout == "forged\n", p.stderr


def test_a_zip_entry_ignores_a_forged_pycache(launcher, pth, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    forge(app)
    z = tmp_path / "app.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(app / "mod.py", "mod.py")
    forge(tmp_path)  # a __pycache__ beside the zip, too
    p = run([launcher, "--paths", pth(z), "-c",
             "import mod; print(mod.WHO, mod.__file__)"])
    assert p.stdout == "genuine %s\n" % (z / "mod.py"), p.stderr


def test_bundle_keeps_a_zipped_app_sealed(launcher, tmp_path):
    z = tmp_path / "game.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("game_main.py", "print('zipped app ran')\n")
    dest = tmp_path / "dist"
    p = run([launcher, "bundle", dest, "--app", z], timeout=300)
    assert p.returncode == 0, p.stderr
    assert (dest / "pyhost._pth").read_text().splitlines()[-1] == "app.zip"
    p = run([dest / "pyhost", "--audit", "-m", "game_main"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == "zipped app ran\n"
