# SPDX-License-Identifier: MIT
"""The pyhost launcher: where sys.path comes from, the ._pth format, and
python3's command line (script, -m, -c, stdin, sys.argv)."""
import zipfile

import pytest

import embedtools
from embedtools import DYNLOAD, STDLIB, run

PRINT_PATH = "import sys; print(sys.path)"


def test_builtin_default_is_stdlib_and_dynload_only(launcher):
    p = run([launcher, "-c", PRINT_PATH])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == repr([STDLIB, DYNLOAD])


def test_pth_beside_the_executable_defines_sys_path(launcher_copy, tmp_path):
    lib = tmp_path / "bin" / "lib"
    lib.mkdir()
    (launcher_copy.parent / "pyhost._pth").write_text(
        "# the whole path\n%s\n%s   # trailing comment\n\nlib\n"
        % (STDLIB, DYNLOAD))
    p = run([launcher_copy, "-c", PRINT_PATH], cwd="/")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == repr([STDLIB, DYNLOAD, str(lib)])


def test_paths_option_wins_over_the_file_beside(launcher_copy, pth, tmp_path):
    (launcher_copy.parent / "pyhost._pth").write_text("/nonexistent\n")
    p = run([launcher_copy, "--paths", pth(), "-c", PRINT_PATH])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == repr([STDLIB, DYNLOAD])


def test_relative_entries_are_relative_to_the_file(launcher, tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "app").mkdir()
    f = tmp_path / "conf" / "app._pth"
    f.write_text("%s\n%s\n../app\n" % (STDLIB, DYNLOAD))
    p = run([launcher, "--paths", f, "-c", PRINT_PATH], cwd="/")
    assert p.stdout.strip() == repr([STDLIB, DYNLOAD, str(tmp_path / "app")])


def test_zip_entries_are_importable(launcher, pth, tmp_path):
    z = tmp_path / "app.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("zipped_mod.py", "WHERE = __file__\n")
    p = run([launcher, "--paths", pth(z), "-c",
             "import zipped_mod; print(zipped_mod.WHERE)"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(z / "zipped_mod.py")


def test_import_site_line_turns_site_on(launcher, tmp_path):
    f = embedtools.write_pth(tmp_path / "s._pth", [STDLIB, DYNLOAD],
                             "import site\n")
    p = run([launcher, "--paths", f, "-c",
             "import sys; print(sys.flags.no_site, 'site' in sys.modules)"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "True"]


def test_site_packages_by_absolute_path(launcher, pth):
    """The main job's set-up: the stdlib, lib-dynload and the venv's
    site-packages (where pyhost and greenlet live) in one path file."""
    p = run([launcher, "--paths", pth(embedtools.PLATLIB), "-c",
             "import greenlet, pyhost; print(pyhost.__file__)"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(embedtools.PACKAGE / "__init__.py")


def test_sys_argv_like_python3_for_script_module_code_and_stdin(launcher,
                                                                tmp_path):
    script = tmp_path / "show.py"
    script.write_text("import sys; print(sys.argv, __name__, __file__)\n")
    p = run([launcher, script, "a", "-b"])
    assert p.stdout.strip() == "%r __main__ %s" % ([str(script), "a", "-b"],
                                                   script)
    p = run([launcher, "-c", "import sys; print(sys.argv)", "x", "-c"])
    assert p.stdout.strip() == "['-c', 'x', '-c']"
    p = run([launcher, "-m", "json.tool", "--compact"], input='{"a": [1]}')
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == '{"a":[1]}'
    p = run([launcher, "-", "q"], input="import sys; print(sys.argv)\n")
    assert p.stdout.strip() == "['-', 'q']"
    p = run([launcher], input="print('from stdin')\n")
    assert p.stdout.strip() == "from stdin"


def test_python3_flags_are_accepted(launcher):
    """multiprocessing relaunches sys.executable with python3's flags."""
    p = run([launcher, "-I", "-S", "-Es", "-B", "-P", "-u", "-c",
             "print('ok')"])
    assert (p.returncode, p.stdout) == (0, "ok\n")
    p = run([launcher, "-c", "import sys; print(sys.stdout.write_through)"])
    assert p.stdout == "False\n"
    p = run([launcher, "-u", "-c",
             "import sys; print(sys.stdout.write_through)"])
    assert p.stdout == "True\n"


def test_multiprocessing_spawn_relaunches_pyhost(launcher, tmp_path):
    script = tmp_path / "mp.py"
    script.write_text(
        "import multiprocessing as mp, sys\n"
        "def child(q):\n"
        "    import sys\n"
        "    q.put((sys.executable, sys.path))\n"
        "if __name__ == '__main__':\n"
        "    ctx = mp.get_context('spawn')\n"
        "    q = ctx.Queue()\n"
        "    p = ctx.Process(target=child, args=(q,))\n"
        "    p.start(); print(q.get()); p.join()\n")
    pth = embedtools.base_pth(tmp_path, tmp_path)
    p = run([launcher, "--paths", pth, script], timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == repr((str(launcher), [STDLIB, DYNLOAD,
                                                      str(tmp_path)]))


def test_help_and_version_exit_0(launcher):
    p = run([launcher, "--help"])
    assert p.returncode == 0 and "usage: pyhost" in p.stdout
    p = run([launcher, "--version"])
    assert p.stdout.startswith("pyhost 0.1.0 (Python %s)" % embedtools.VERSION)


@pytest.mark.parametrize("args,message", [
    (["--bogus"], "unknown option --bogus"),
    (["-x"], "unknown option -x"),
    (["-c"], "-c needs the code to run"),
    (["-m"], "-m needs a module name"),
    (["--paths"], "--paths needs a value"),
])
def test_usage_errors_exit_2(launcher, args, message):
    p = run([launcher, *args])
    assert p.returncode == 2
    assert "pyhost: " + message in p.stderr
    assert "usage: pyhost" in p.stderr
