# SPDX-License-Identifier: MIT
"""python -m pyhost.leaks SCRIPT / -m MODULE, text and --json."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKLOAD = ROOT / "examples" / "leaky_workload.py"


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "pyhost.leaks", *args],
                          capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_workload_report_names_each_planted_leak():
    p = run(str(WORKLOAD))
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "handled 300 requests" in out
    assert "New orphans: 1 " in out
    assert "[[0], [1], [2], [3], ...]" in out
    assert "SESSIONS[0]" in out and "SESSIONS[2]" in out
    assert "LAST_USER" in out and "LAST_SCORE" in out \
        and "LAST_RATIO" in out
    # the orphan keeps its 2,000 lists alive: it is ranked first
    orphan_section = out.split("New orphans:")[1].split("\n")[2]
    assert orphan_section.lstrip().startswith("3,7")


def test_json(tmp_path):
    p = run("--json", str(WORKLOAD))
    assert p.returncode == 0, p.stderr
    text = p.stdout[p.stdout.index("{"):]
    data = json.loads(text)
    assert data["exit_status"] == 0
    assert any(o["type"] == "list" and o["kept_count"] > 2000
               for o in data["new_orphans"])
    assert any(h["repr"].startswith("['user-") for h in data["new_held"])


def test_script_arguments_and_exit_status(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint('args', sys.argv[1:])\n"
                      "sys.exit(3)\n")
    p = run(str(script), "a", "--b")
    assert p.returncode == 3
    assert "args ['a', '--b']" in p.stdout
    assert "Nothing new" in p.stdout or "Types that grew" in p.stdout


def test_module_mode(tmp_path):
    (tmp_path / "modx.py").write_text("KEEP = [[i] for i in range(300)]\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    p = subprocess.run([sys.executable, "-m", "pyhost.leaks", "-m", "modx"],
                       capture_output=True, text=True, cwd=tmp_path,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "+30" in p.stdout and "list" in p.stdout


def test_failing_script_still_reports(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text("raise RuntimeError('boom in script')\n")
    p = run(str(script))
    assert p.returncode == 1
    assert "boom in script" in p.stderr
    assert "Baseline" in p.stdout


def test_bad_usage():
    p = run()
    assert p.returncode == 2 and "give a SCRIPT" in p.stderr
    p = run("/no/such/file.py")
    assert p.returncode == 2 and "no such file" in p.stderr
    p = run("--top", "0", str(WORKLOAD))
    assert p.returncode == 2 and "--top must be >= 1" in p.stderr
    p = run("--top", "x", str(WORKLOAD))
    assert p.returncode == 2 and "invalid int value" in p.stderr


def test_syntax_error_in_script(tmp_path):
    script = tmp_path / "syn.py"
    script.write_text("def (:\n")
    p = run(str(script))
    assert p.returncode == 2 and "cannot compile" in p.stderr


def test_cli_prints_an_exit_message(tmp_path):
    """sys.exit("message") in the script prints the message and exits 1,
    as the interpreter does, and the report still comes."""
    script = tmp_path / "bye.py"
    script.write_text("import sys\nsys.exit('bye from the script')\n")
    p = run(str(script))
    assert p.returncode == 1
    assert "bye from the script" in p.stderr
    assert "Baseline" in p.stdout
