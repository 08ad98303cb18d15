# SPDX-License-Identifier: MIT
"""Bad input: broken path files, missing scripts, every kind of SystemExit,
exceptions at top level.  Each gives a clear message naming the file (and
line), python3's exit status, and never a crash."""
import os
import zipapp
import zipfile

import pytest

import embedtools
from embedtools import STDLIB, run


def start_with(launcher, pth_path):
    return run([launcher, "--paths", pth_path, "-c", "print('ran')"])


def assert_clean_failure(p, *fragments):
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout == ""  # the program never ran
    assert p.stderr.startswith("pyhost: ")
    for fragment in fragments:
        assert fragment in p.stderr
    assert "Fatal Python error" not in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_path_file_is_named(launcher, tmp_path):
    f = tmp_path / "nope._pth"
    assert_clean_failure(start_with(launcher, f),
                         "path file '%s' does not exist" % f)


def test_directory_as_path_file_is_refused(launcher, tmp_path):
    assert_clean_failure(start_with(launcher, tmp_path),
                         "path file '%s' is a directory, not a file"
                         % tmp_path)


def test_unreadable_path_file_is_named(launcher, tmp_path):
    if os.geteuid() == 0:
        # root reads through permissions; this file fails at read().
        f = "/proc/self/mem"
        assert_clean_failure(start_with(launcher, f),
                             "cannot read '%s': Input/output error" % f)
    else:
        f = tmp_path / "locked._pth"
        f.write_text(STDLIB + "\n")
        f.chmod(0)
        assert_clean_failure(start_with(launcher, f),
                             "cannot read path file '%s': Permission denied"
                             % f)


@pytest.mark.parametrize("content,fragment", [
    (b"", "lists no sys.path entry"),
    (b"# only a comment\n\n   \n", "lists no sys.path entry"),
    (b"/nonexistent/entry\n", ":1: '/nonexistent/entry' does not exist"),
    (b"STDLIB\nmissing_rel\n", ":2: '{dir}/missing_rel' does not exist"),
    (b"STDLIB\n/tmp/\xff\xfebad\n",
     ":2: not valid UTF-8 (byte 0xff at column 6)"),
    (b"STDLIB\nimport os\n", ":2: 'import os': the only import a path file"),
    (b"STDLIB\nab\0cd\n", ":2: the line contains a NUL byte"),
    (b"STDLIB\n" + b"x" * (1 << 20) + b"\n",
     ":2: the entry is 1048576 bytes long; a path cannot be longer"),
])
def test_malformed_path_file_names_the_line(launcher, tmp_path, content,
                                            fragment):
    f = tmp_path / "bad._pth"
    f.write_bytes(content.replace(b"STDLIB", STDLIB.encode()))
    p = start_with(launcher, f)
    assert_clean_failure(p, str(f), fragment.format(dir=tmp_path))
    assert len(p.stderr) < 10000  # the 1 MB line is not echoed back


def test_long_comment_is_not_an_error(launcher, tmp_path):
    """The length limit applies to the entry, not to a comment after it."""
    f = tmp_path / "long._pth"
    f.write_text("%s  # %s\n# %s\n" % (STDLIB, "c" * 10000, "d" * 10000))
    p = start_with(launcher, f)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "ran\n"


def test_stdlib_missing_names_every_entry(launcher, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    f = embedtools.write_pth(tmp_path / "x._pth", ["a", "b"])
    assert_clean_failure(
        start_with(launcher, f),
        "the standard library was not found",
        "Searched 2 sys.path entries",
        "%s (folder without encodings/__init__.py)" % (tmp_path / "a"),
        "%s (folder without encodings/__init__.py)" % (tmp_path / "b"),
        "The entries come from '%s'" % f)


def side_by_side(launcher, tmp_path, source, args=()):
    """Run source as a script under pyhost and python3 -I -S."""
    script = tmp_path / "prog.py"
    if isinstance(source, bytes):
        script.write_bytes(source)
    else:
        script.write_text(source)
    ours = run([launcher, script, *args])
    theirs = run([embedtools.BASE_PYTHON, "-I", "-S", script, *args])
    return ours, theirs


@pytest.mark.parametrize("code", [
    "None", "0", "3", "-1", "256", "2 ** 100", "'goodbye'", "(1, 2)",
    "True", "3.5", "object", "[]",
])
def test_system_exit_codes_like_python3(launcher, tmp_path, code):
    ours, theirs = side_by_side(launcher, tmp_path,
                                "raise SystemExit(%s)\n" % code)
    assert ours.returncode == theirs.returncode
    if code == "2 ** 100":
        # python3 3.12+ leaks its own OverflowError from converting the
        # code into "Exception ignored on threading shutdown"; pyhost
        # exits with the same status (255) and prints nothing.
        assert ours.stderr == ""
    else:
        assert ours.stderr == theirs.stderr


def test_sys_exit_without_argument_exits_0(launcher, tmp_path):
    ours, theirs = side_by_side(launcher, tmp_path, "import sys; sys.exit()")
    assert ours.returncode == theirs.returncode == 0


@pytest.mark.parametrize("source", [
    "def f():\n    raise ValueError('bad value')\n\nf()\n",
    "x = (\n",
    "print('partial')\n1/0\n",
    "raise KeyboardInterrupt\n",
    b"s = '\xff'\n",  # not UTF-8
])
def test_top_level_errors_like_python3(launcher, tmp_path, source):
    ours, theirs = side_by_side(launcher, tmp_path, source)
    assert ours.returncode == theirs.returncode
    assert ours.stdout == theirs.stdout
    assert ours.stderr == theirs.stderr
    assert str(tmp_path / "prog.py") in ours.stderr


def test_missing_script_exits_2(launcher, tmp_path):
    f = tmp_path / "absent.py"
    p = run([launcher, f])
    assert p.returncode == 2
    assert p.stderr == ("pyhost: can't open file '%s': [Errno 2] No such "
                        "file or directory\n" % f)


def test_directory_as_script_exits_2(launcher, tmp_path):
    p = run([launcher, tmp_path])
    assert p.returncode == 2
    assert "can't open file '%s': [Errno 21] Is a directory" % tmp_path \
        in p.stderr


def test_missing_module_like_python3(launcher):
    p = run([launcher, "-m", "no_such_module_here"])
    assert p.returncode == 1
    assert p.stderr == "%s: No module named no_such_module_here\n" % launcher


def test_zip_application_as_script_exits_2(launcher, tmp_path):
    z = tmp_path / "app.pyz"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("__main__.py", "print('must not run')\n")
    p = run([launcher, z])
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr == ("pyhost: can't run '%s': it is a zip archive; list "
                        "it in the path file and use -m instead\n" % z)


def test_zip_application_with_shebang_exits_2(launcher, tmp_path):
    """A .pyz made by zipapp starts with a #! line: it is known by the zip
    directory at its end, not by its first bytes."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "__main__.py").write_text("print('must not run')\n")
    z = tmp_path / "app.pyz"
    zipapp.create_archive(src, z, interpreter="/usr/bin/env python3")
    p = run([launcher, z])
    assert p.returncode == 2
    assert p.stdout == ""
    assert "can't run '%s': it is a zip archive" % z in p.stderr


def test_script_from_a_pipe_runs_whole(launcher):
    """A script read from a pipe (/dev/stdin, <(...)) loses no byte to the
    zip check, which once read ahead and could not rewind."""
    p = run([launcher, "/dev/stdin", "arg"],
            input="import sys\nprint('whole', sys.argv)\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "whole ['/dev/stdin', 'arg']\n"
