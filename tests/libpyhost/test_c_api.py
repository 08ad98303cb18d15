# SPDX-License-Identifier: MIT
"""libpyhost's C API driven from C (capi_test.c): status codes, messages
with file and line, python3's exit codes, nothing printed unless asked,
the environment scrub, the stdlib check and the audit."""
import os
import shutil
import zipfile

import embedtools


def scenario(program, name, arg="", cwd=None, *more):
    p = embedtools.run([program, name, arg, *more], cwd=cwd)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout, p.stderr


def test_calls_before_start_fail_cleanly(capi_test):
    out, err = scenario(capi_test, "not-started")
    assert "run: ESTATE" in out
    assert "run message: Python is not running (not started)" in out
    assert "audit: ESTATE" in out
    assert err == ""


def test_start_without_paths_is_refused(capi_test):
    out, _ = scenario(capi_test, "no-paths")
    assert "start: EINVAL" in out
    assert "no sys.path entry configured" in out


def test_inconsistent_config_is_refused(capi_test):
    out, _ = scenario(capi_test, "bad-config")
    assert "start message: path_count is 2 but paths is NULL" in out
    assert "start-argv message: argc is 2 but argv is NULL" in out
    assert "start-null message: config is NULL" in out
    assert ("start-relative-exe message: executable 'python3' is not an "
            "absolute path") in out
    assert ("start-empty-name message: program_name '' is not an absolute "
            "path") in out


def test_missing_stdlib_names_every_path(capi_test, tmp_path):
    out, err = scenario(capi_test, "no-stdlib", str(tmp_path))
    assert "start: ENOSTDLIB exit=1" in out
    assert "'encodings' package" in out
    assert str(tmp_path) in out
    assert "folder without encodings/__init__.py" in out
    # CPython was never asked: no path dump, no fatal error.
    assert "Fatal Python error" not in out + err
    assert err == ""


def test_zip_without_stdlib_is_named(capi_test, tmp_path):
    z = tmp_path / "notstdlib.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("hello.py", "x = 1\n")
    out, _ = scenario(capi_test, "zip", str(z))
    assert "zip archive without encodings/__init__.py[c]" in out
    bad = tmp_path / "garbage.zip"
    bad.write_bytes(b"not a zip at all" * 10)
    out, _ = scenario(capi_test, "zip", str(bad))
    assert "not a readable zip archive" in out


def test_zipped_stdlib_starts(capi_test, tmp_path):
    """A zip holding only the encodings package is enough to start."""
    z = tmp_path / "mini.zip"
    src = os.path.join(embedtools.STDLIB, "encodings")
    with zipfile.ZipFile(z, "w") as zf:
        for name in os.listdir(src):
            if name.endswith(".py"):
                zf.write(os.path.join(src, name), "encodings/" + name)
    out, _ = scenario(capi_test, "zip", str(z))
    assert "start: OK" in out
    assert "eval __import__('sys').path: OK ['%s']" % z in out


def test_run_results_match_python3(capi_test):
    out, err = scenario(capi_test, "run")
    assert "start: OK" in out
    assert "exception: EEXCEPTION exit=1" in out
    assert ('exception message: File "<string>", line 2: '
            "ZeroDivisionError: division by zero") in out
    assert "sysexit: ESYSEXIT exit=7" in out
    assert "sysexit-str: ESYSEXIT exit=1" in out
    assert "sysexit-str message: bye" in out
    assert "missing: EOPEN exit=2" in out
    assert ("missing message: can't open file '/nonexistent/x.py': "
            "[Errno 2] No such file or directory") in out
    assert "module: ESYSEXIT exit=1" in out
    assert "No module named no_such_module_x" in out
    assert "ok: OK exit=0" in out
    assert "eval __import__('__main__').x + 2: OK 42" in out
    assert "eval __import__('sys').argv: OK ['prog', 'one', 'two']" in out
    assert "eval __import__('sys').executable: OK /opt/game/bin/server" in out
    assert "eval __import__('sys').flags.no_site: OK 1" in out
    assert ("eval undefined_name: EEXCEPTION File \"<string>\", line 1: "
            "NameError: name 'undefined_name' is not defined") in out
    assert "config()['site']: OK False" in out
    assert "finish: 0" in out
    assert "after: ESTATE" in out
    assert "restart: ESTATE" in out
    assert "cannot be started twice" in out
    # print_errors was off: the library printed nothing.
    assert err == ""


def test_environment_scrubbed_by_default(capi_test):
    out, _ = scenario(capi_test, "environment")
    assert "OPENSSL_CONF: unset" in out
    assert "environ if k in" in out and "OK ['PYHOST_UNRELATED']" in out
    assert "OK ['OPENSSL_CONF', '_PYTHON_SYSCONFIGDATA_NAME']" in out


def test_environment_kept_on_request(capi_test):
    out, _ = scenario(capi_test, "environment", "keep")
    assert "OPENSSL_CONF: set" in out
    assert ("OK ['OPENSSL_CONF', 'PYHOST_UNRELATED', "
            "'_PYTHON_SYSCONFIGDATA_NAME']") in out


def test_exe_pth_beside_the_host_is_ignored(capi_test, tmp_path):
    exe = tmp_path / "capi_test"
    shutil.copy2(capi_test, exe)
    evil = tmp_path / "evil"
    evil.mkdir()
    (tmp_path / "capi_test._pth").write_text("%s\nimport site\n" % evil)
    out, _ = scenario(exe, "paths")
    assert "eval __import__('sys').path: OK %r" % (
        [embedtools.STDLIB, embedtools.DYNLOAD],) in out


def test_audit_reports_modules_from_outside(capi_test, tmp_path):
    (tmp_path / "outsider.py").write_text("X = 1\n")
    out, _ = scenario(capi_test, "audit", repr(str(tmp_path)))
    assert "audit: OK" in out
    assert "seen>20: 1 outside: 0" in out
    assert "outside: outsider %s" % (tmp_path / "outsider.py") in out
    assert "\noutside: 1\n" in out
    # A callback that stops early does not shrink the count.
    assert out.rstrip().endswith("stopped after 1 call(s), outside: 1")


def test_host_holds_no_gil_between_calls(capi_test, tmp_path):
    """After pyhost_start the host's own work does not hold the GIL: a
    Python thread keeps running and a C thread can call in."""
    flag = tmp_path / "flag"
    out, err = scenario(capi_test, "threads", repr(str(flag)), None,
                        str(flag))
    assert "spawn: OK" in out
    assert "python thread ran: 1" in out
    assert "c thread ran: 1" in out
    assert "c thread: OK exit=0" in out
    assert "__main__').y: OK from a C thread" in out
    assert err == ""


def test_refused_run_is_a_failed_run(capi_test):
    out, _ = scenario(capi_test, "refused")
    assert "null-file: EINVAL exit=2" in out
    assert "null-file message: path is NULL" in out
    assert "empty-module: EINVAL exit=2" in out
    assert "null-code: EINVAL exit=2" in out
    assert "finish: 2" in out


def test_message_names_a_script_whose_path_is_not_utf8(capi_test, tmp_path):
    """The file and line reach pyhost_message() as the path's own bytes; a
    path that is not UTF-8 once lost them (and the error text too)."""
    script = os.fsencode(tmp_path) + b"/bad\xff.py"
    with open(script, "w", encoding="utf-8") as f:
        f.write("x = 1\nraise ValueError(%r)\n" % "caf\xe9 \udcff")
    p = embedtools.run([capi_test, "file", os.fsdecode(script)], text=False)
    assert p.returncode == 0, p.stderr
    assert (b'file message: File "' + script + b'", line 2: ValueError: '
            b"caf\xc3\xa9 \xff") in p.stdout
