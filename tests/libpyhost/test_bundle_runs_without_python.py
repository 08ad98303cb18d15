# SPDX-License-Identifier: MIT
"""pyhost bundle: a relocatable folder that starts with no Python installed
(proved in a mount namespace that hides every Python on the machine) and
whose --audit shows nothing coming from outside after it is moved."""
import json
import os
import shutil
import subprocess
import sys

import pytest

import embedtools
from embedtools import run

V = embedtools.VERSION
APP_MAIN = ("import sys, json, decimal, hashlib\n"
            "print('app ran', json.dumps(sys.path))\n")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, launcher):
    root = tmp_path_factory.mktemp("bundle")
    app = root / "myapp"
    app.mkdir()
    (app / "main.py").write_text(APP_MAIN)
    dest = root / "dist"
    p = run([launcher, "bundle", dest, "--app", app], timeout=300)
    assert p.returncode == 0, p.stderr
    return dest


def test_bundle_holds_launcher_libpython_stdlib_zip_and_app(bundle):
    zip_name = "python%s.zip" % V.replace(".", "")
    assert (bundle / "pyhost").is_file()
    assert (bundle / ("libpython%s.so.1.0" % V)).is_file()
    assert (bundle / "lib" / zip_name).is_file()
    assert (bundle / "lib" / "lib-dynload").is_dir()
    assert (bundle / "app" / "main.py").is_file()
    entries = [line for line in
               (bundle / "pyhost._pth").read_text().splitlines()
               if not line.startswith("#")]
    assert entries == ["lib/" + zip_name, "lib/lib-dynload", "app"]


def test_moved_bundle_audits_clean(bundle, tmp_path):
    moved = tmp_path / "elsewhere" / "game"
    shutil.copytree(bundle, moved, symlinks=True)
    p = run([moved / "pyhost", "--audit", "-m", "main"], cwd="/")
    assert p.returncode == 0, p.stderr
    assert "app ran" in p.stdout
    assert "pyhost audit: 0 modules from outside the roots" in p.stderr
    for line in p.stderr.splitlines():
        if line.startswith("pyhost audit: inside") and "/" in line:
            assert str(moved) in line
    assert "OUTSIDE" not in p.stderr
    path = json.loads(p.stdout.split("app ran ", 1)[1])
    assert all(entry.startswith(str(moved)) for entry in path)


def test_bundle_audit_catches_an_outside_import(bundle, tmp_path):
    (tmp_path / "stray.py").write_text("X = 1\n")
    p = run([bundle / "pyhost", "--audit", "-c",
             "import sys; sys.path.append(%r); import stray"
             % str(tmp_path)])
    assert p.returncode == 3
    assert "pyhost audit: OUTSIDE stray" in p.stderr
    assert "1 module from outside the roots" in p.stderr


def hidden_pythons():
    """Every folder a Python could come from on this machine."""
    candidates = ["/usr/lib/python3", "/usr/local/lib",
                  os.path.realpath(sys.base_prefix), sys.prefix,
                  str(embedtools.REPO / "build"),
                  os.path.expanduser("~/.pyenv")]
    candidates += ["/usr/lib/" + d for d in os.listdir("/usr/lib")
                   if d.startswith("python")]
    found = {c for c in candidates if os.path.isdir(c)}
    # Mount over the outermost ones only: a tmpfs hides what is below it.
    return sorted(c for c in found
                  if not any(c.startswith(d + "/") for d in found))


def test_bundle_starts_with_every_python_hidden(bundle, tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("mount namespaces are not permitted here: %s"
                    % probe.stderr.decode().strip())
    dest = tmp_path / "game"
    shutil.copytree(bundle, dest, symlinks=True)
    mounts = " && ".join("mount -t tmpfs pyhost-hide %s" % d
                         for d in hidden_pythons())
    script = ("mount --make-rprivate / && %s && "
              "{ %s -c pass 2>/dev/null && echo PYTHON-STILL-VISIBLE; "
              "cd / && exec %s --audit -m main; }"
              % (mounts, embedtools.BASE_PYTHON, dest / "pyhost"))
    p = subprocess.run(["unshare", "-m", "sh", "-c", script],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "PYTHON-STILL-VISIBLE" not in p.stdout
    assert "app ran" in p.stdout
    assert "0 modules from outside the roots" in p.stderr


@pytest.mark.parametrize("args,status,message", [
    ([], 2, "no destination folder"),
    (["a", "b"], 2, "unexpected argument 'b'"),
    (["DEST", "--app", "/nonexistent/app"], 1,
     "--app /nonexistent/app does not exist"),
])
def test_bundle_usage_errors_are_named(launcher, tmp_path, args, status,
                                       message):
    args = [str(tmp_path / "d") if a == "DEST" else a for a in args]
    p = run([launcher, "bundle", *args])
    assert p.returncode == status
    assert "pyhost bundle: " + message in p.stderr


def test_bundle_refuses_a_non_empty_folder(launcher, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    p = run([launcher, "bundle", tmp_path])
    assert p.returncode == 1
    assert "exists and is not an empty folder" in p.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"
