# SPDX-License-Identifier: MIT
"""_pyhost_embed, the built-in module libpyhost registers (the console and
--audit rely on it), and the launcher's --audit."""
import json
import os

import pytest

import embedtools
from embedtools import DYNLOAD, STDLIB, run


def test_config_describes_the_start(launcher, pth, tmp_path):
    f = pth(tmp_path)
    p = run([launcher, "--paths", f, "-c",
             "import _pyhost_embed, json; "
             "print(json.dumps(_pyhost_embed.config()))"],
            env=dict(os.environ, OPENSSL_CONF="/nowhere.cnf"))
    assert p.returncode == 0, p.stderr
    cfg = json.loads(p.stdout)
    assert cfg == {
        "path": [STDLIB, DYNLOAD, str(tmp_path)],
        "path_file": str(f),
        "site": False,
        "roots": [STDLIB, DYNLOAD, str(tmp_path)],
        "executable": str(launcher),
        "program_name": str(launcher),
        "home": str(tmp_path),
        "scrubbed": ["OPENSSL_CONF"],
    }


def test_audit_from_python_marks_modules_from_outside(launcher, tmp_path):
    (tmp_path / "stray.py").write_text("X = 1\n")
    code = ("import _pyhost_embed, sys, json; sys.path.append(%r); "
            "import stray; a = _pyhost_embed.audit(); "
            "print(json.dumps([e for e in a if e[0] in "
            "('json', 'stray', 'sys', '_pyhost_embed')]))" % str(tmp_path))
    p = run([launcher, "-c", code])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [
        ["_pyhost_embed", None, True],
        ["json", STDLIB + "/json/__init__.py", True],
        ["stray", str(tmp_path / "stray.py"), False],
        ["sys", None, True],
    ]


def test_embed_module_is_not_importable_outside_libpyhost():
    p = run([embedtools.BASE_PYTHON, "-I", "-c", "import _pyhost_embed"])
    assert p.returncode == 1
    assert "No module named '_pyhost_embed'" in p.stderr


def test_launcher_audit_passes_inside(launcher, tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("import json\n")
    p = run([launcher, "--audit", script])
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert "pyhost audit: inside  __main__%s%s" % (" " * 33, script) in lines
    assert any(line.startswith("pyhost audit: inside  json ") and
               line.endswith(STDLIB + "/json/__init__.py") for line in lines)
    assert lines[-1] == "pyhost audit: 0 modules from outside the roots"


def test_launcher_audit_fails_on_outside(launcher, tmp_path):
    (tmp_path / "stray.py").write_text("X = 1\n")
    p = run([launcher, "--audit", "-c",
             "import sys; sys.path.append(%r); import stray"
             % str(tmp_path)])
    assert p.returncode == 3
    assert "pyhost audit: OUTSIDE stray" in p.stderr


@pytest.mark.parametrize("code,status", [("raise SystemExit(4)", 4),
                                         ("1/0", 1)])
def test_launcher_audit_keeps_the_program_status(launcher, code, status):
    p = run([launcher, "--audit", "-c", code])
    assert p.returncode == status
    assert "pyhost audit: 0 modules from outside the roots" in p.stderr


def test_config_and_audit_do_not_leak(launcher):
    """Live memory blocks after 2000 more calls stay near where they were:
    one lost object per call would leave 2000 or more behind, while the
    interpreter's own caches account for a few dozen (3.13)."""
    code = """\
import _pyhost_embed, sys
def churn(n):
    for _ in range(n):
        _pyhost_embed.config()
        _pyhost_embed.audit()
churn(50)
before = sys.getallocatedblocks()
churn(2000)
print(sys.getallocatedblocks() - before)
"""
    p = run([launcher, "-c", code], timeout=120)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) < 500


def test_audit_follows_symlinks_out_of_the_roots(launcher, pth, tmp_path):
    """A module reached through a symlink inside a root, whose file lives
    elsewhere, came from outside (the Debian sitecustomize.py case)."""
    app = tmp_path / "app"
    elsewhere = tmp_path / "elsewhere"
    app.mkdir()
    elsewhere.mkdir()
    (elsewhere / "linked.py").write_text("X = 1\n")
    (app / "linked.py").symlink_to(elsewhere / "linked.py")
    p = run([launcher, "--paths", pth(app), "--audit", "-c", "import linked"])
    assert p.returncode == 3
    assert "pyhost audit: OUTSIDE linked" in p.stderr


def test_audit_judges_namespace_folders_that_are_not_utf8(launcher, tmp_path):
    """A namespace package whose folder name is not valid UTF-8 is judged
    by its bytes; it was once skipped, and so counted as inside."""
    outside = os.fsencode(tmp_path) + b"/out\xff"
    os.makedirs(outside + b"/nspkg")
    p = run([launcher, "--audit", "-c",
             "import os, sys; sys.path.append(os.fsdecode(%r)); import nspkg"
             % outside], errors="surrogateescape")
    assert p.returncode == 3, p.stderr
    assert "pyhost audit: OUTSIDE nspkg" in p.stderr


def test_audit_reports_module_names_that_are_not_utf8(launcher):
    """A sys.modules key that is not valid UTF-8 reaches the callback as its
    bytes (surrogateescape), never as a NULL name."""
    p = run([launcher, "--audit", "-c",
             "import sys; sys.modules['bad\\udcff'] = sys"], text=False)
    assert p.returncode == 0, p.stderr
    assert b"pyhost audit: inside  bad\xff " in p.stderr
    assert b"(null)" not in p.stderr
