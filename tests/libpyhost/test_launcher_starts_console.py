# SPDX-License-Identifier: MIT
"""--console [HOST:]PORT: the launcher starts pyhost.console through
libpyhost before the program and prints its URL.  The real console is
another part of pyhost; here a small fake pyhost/console.py in a temporary
path-file entry stands in for it, so only the launcher's side is tested."""
import pytest

from embedtools import run

FAKE_CONSOLE = """\
started = None

def start(host, port):
    global started
    if port == 1:
        raise OSError("port 1 is not for us")
    started = (host, port)
    return "http://%s:%d/" % (host, port or 4242)
"""


@pytest.fixture
def fake_pkg(tmp_path):
    pkg = tmp_path / "fake" / "pyhost"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "console.py").write_text(FAKE_CONSOLE)
    return pkg.parent


SHOW = "import pyhost.console as c; print('program sees', c.started)"


@pytest.mark.parametrize("spec,host,port", [
    ("0", "127.0.0.1", 0),
    ("8123", "127.0.0.1", 8123),
    ("localhost:8124", "localhost", 8124),
    ("[::1]:8125", "::1", 8125),
])
def test_console_starts_before_the_program(launcher, pth, fake_pkg, spec,
                                           host, port):
    p = run([launcher, "--paths", pth(fake_pkg), "--console", spec, "-c",
             SHOW])
    assert p.returncode == 0, p.stderr
    assert p.stdout == "program sees %r\n" % ((host, port),)
    assert p.stderr == "pyhost console: http://%s:%d/\n" % (host,
                                                            port or 4242)


def test_console_missing_package_is_a_clear_error(launcher, pth):
    p = run([launcher, "--paths", pth(), "--console", "0", "-c",
             "print('must not run')"])
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr == ("pyhost: --console: cannot start pyhost.console: "
                        "File \"<string>\", line 1: ModuleNotFoundError: "
                        "No module named 'pyhost'\n")


def test_console_start_failure_is_reported(launcher, pth, fake_pkg):
    p = run([launcher, "--paths", pth(fake_pkg), "--console", "1", "-c",
             "print('must not run')"])
    assert p.returncode == 1
    assert p.stdout == ""
    assert "cannot start pyhost.console" in p.stderr
    assert "OSError: port 1 is not for us" in p.stderr


@pytest.mark.parametrize("spec", ["", "abc", "70000", "-1", "host:",
                                  "h'x:80", "1.2.3.4:80:x"])
def test_console_bad_spec_exits_2(launcher, spec):
    p = run([launcher, "--console", spec, "-c", "print('must not run')"])
    assert p.returncode == 2
    assert p.stdout == ""
    assert "pyhost: --console '%s'" % spec in p.stderr
