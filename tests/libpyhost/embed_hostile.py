# SPDX-License-Identifier: MIT
"""The hostile-environment vectors, shared by test_hostile_environment.py and
bench/hostile_environment.py (which prints the README's table).

Each vector plants files and/or sets variables whose code, if it ever runs,
creates a canary file.  A run counts as PWN when its canary exists
afterwards.  Every vector runs the same application (app/main.py or the
same code through -c) under four modes: pyhost (the installed launcher with
--paths naming the stdlib, lib-dynload and app/), python3, python3 -E and
python3 -I (the interpreter pyhost was built against)."""
import ast
import fcntl
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import termios
import time

import embedtools

MODES = ("pyhost", "python3", "python3 -E", "python3 -I")
FLAGS = {"python3": [], "python3 -E": ["-E"], "python3 -I": ["-I"]}
V = embedtools.VERSION

# What every run executes (as app/main.py, scriptdir/run.py or -c): print
# sys.path, then touch what the vectors attack: json (shadowing), hashlib
# (OpenSSL), sysconfig (its data module), with the app folder on sys.path.
APP_CODE = """\
import sys
print("SYSPATH=" + repr(sys.path))
import json, hashlib
if {app!r} not in sys.path:
    sys.path.append({app!r})
import sysconfig
sysconfig.get_config_vars()
"""


class Lab:
    """A scratch folder with the canaries, the app and helpers to plant."""

    def __init__(self, root, python=embedtools.BASE_PYTHON,
                 launcher=embedtools.LAUNCHER):
        self.root = pathlib.Path(root)
        self.python = pathlib.Path(python)
        self.launcher = pathlib.Path(launcher)
        self.canaries = self.dir("canaries")
        self.app = self.dir("app")
        self.cwd = self.dir("cwd")
        self.code = APP_CODE.format(app=str(self.app))
        (self.app / "main.py").write_text(self.code)
        self.pth = embedtools.base_pth(self.root, self.app)
        self.expected_path = [embedtools.STDLIB, embedtools.DYNLOAD,
                              str(self.app.resolve())]
        self._venv = None
        self.planted = []

    def dir(self, *parts):
        d = self.root.joinpath(*parts)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def payload(self, name):
        """Python source that creates canary `name` (usable before
        builtins.open exists, hence _io)."""
        return ("__import__('_io').FileIO(%r, 'w').close()\n"
                % str(self.canaries / name))

    def plant(self, path, name, extra=""):
        self.write(path, self.payload(name) + extra)

    def write(self, path, text):
        """Write a planted file, remembered so cleanup() removes it."""
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.planted.append(path)

    def cleanup(self):
        """Remove what the last vector planted (vectors share folders such
        as the venv's site-packages)."""
        for path in self.planted:
            if path.exists():
                path.unlink()
        self.planted = []

    def plant_stdlib(self, folder, name):
        """A fake stdlib in folder: os.py and an encodings package that
        fire, then hand over to the real encodings so start-up goes on."""
        folder = pathlib.Path(folder)
        self.plant(folder / "os.py", name, "from posixpath import *\n")
        real = os.path.join(embedtools.STDLIB, "encodings", "__init__.py")
        self.plant(folder / "encodings" / "__init__.py", name,
                   "__path__ = [%r]\n__file__ = %r\n"
                   "exec(compile(__import__('_io').FileIO(%r).read(), %r, "
                   "'exec'))\n" % (os.path.dirname(real), real, real, real))

    def copy_exe(self, folder, mode):
        """Copy the launcher (pyhost mode) or the interpreter into folder;
        return the copy."""
        folder = pathlib.Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        src = self.launcher if mode == "pyhost" else self.python
        dst = folder / ("pyhost" if mode == "pyhost" else "python3")
        if not dst.exists():
            shutil.copy2(src, dst)
        return dst

    def venv(self):
        """A throw-away venv of the interpreter: its site-packages is the
        'system site' an attacker writes to; made once per lab."""
        if self._venv is None:
            self._venv = self.root / "venv"
            subprocess.run([str(self.python), "-m", "venv", "--without-pip",
                            str(self._venv)], check=True)
            shutil.copy2(self.launcher, self._venv / "bin" / "pyhost")
        return self._venv

    def site_packages(self):
        return self.venv() / "lib" / ("python" + V) / "site-packages"

    def evil_so(self):
        """A shared object whose constructor fires canary OPENSSL_CONF."""
        so = self.root / "evil.so"
        if not so.exists():
            src = self.root / "evil.c"
            src.write_text(
                '#include <stdio.h>\n'
                '__attribute__((constructor)) static void pwn(void)\n'
                '{ FILE *f = fopen("%s", "w"); if (f) fclose(f); }\n'
                % (self.canaries / "OPENSSL_CONF"))
            subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so),
                            str(src)], check=True)
        return so


class Run:
    """How one vector runs under one mode."""

    def __init__(self, env=None, cwd=None, exe=None, target=None,
                 stdin=None, tty_input=None):
        self.env = env or {}
        self.cwd = cwd
        self.exe = exe
        self.target = target  # None: app/main.py
        self.stdin = stdin
        self.tty_input = tty_input  # run on a pty, type this at the prompt


def _pythonpath(lab, mode):
    d = lab.dir("pythonpath")
    lab.plant(d / "json.py", "PYTHONPATH")
    lab.plant(d / "sitecustomize.py", "PYTHONPATH")
    return Run(env={"PYTHONPATH": str(d)})


def _pythonhome(lab, mode):
    home = lab.dir("home")
    lab.plant_stdlib(home / "lib" / ("python" + V), "PYTHONHOME")
    return Run(env={"PYTHONHOME": str(home)})


def _pythonstartup(lab, mode):
    f = lab.root / "startup.py"
    lab.plant(f, "PYTHONSTARTUP")
    return Run(env={"PYTHONSTARTUP": str(f)},
               tty_input="import sys; sys.exit(0)\n")


def _pythonuserbase(lab, mode):
    ub = lab.dir("userbase")
    lab.plant(ub / "lib" / ("python" + V) / "site-packages" /
              "usercustomize.py", "PYTHONUSERBASE")
    return Run(env={"PYTHONUSERBASE": str(ub)})


def _home_usercustomize(lab, mode):
    home = lab.dir("fakehome")
    lab.plant(home / ".local" / "lib" / ("python" + V) / "site-packages" /
              "usercustomize.py", "HOME-usercustomize")
    return Run(env={"HOME": str(home)})


def _platlibdir(lab, mode):
    pl = lab.dir("platlib")
    lab.plant_stdlib(pl / ("python" + V), "PYTHONPLATLIBDIR")
    # Relative to the prefix, so climb to / first: the value escapes it.
    up = "/".join([".."] * (len(pathlib.Path(sys.base_prefix).parts) - 1))
    return Run(env={"PYTHONPLATLIBDIR": up + str(pl)})


def _pythoninspect(lab, mode):
    # python3 only goes interactive after the program when stdin is a tty.
    return Run(env={"PYTHONINSPECT": "1"},
               target=[str(lab.app / "main.py")],
               tty_input=lab.payload("PYTHONINSPECT") + "raise SystemExit\n")


def _pythonwarnings(lab, mode):
    d = lab.dir("warnmod")
    lab.plant(d / "evilwarn.py", "PYTHONWARNINGS",
              "class W(Warning):\n    pass\n")
    return Run(env={"PYTHONWARNINGS": "ignore::evilwarn.W",
                    "PYTHONPATH": str(d)})


def _cwd_on_path(lab, mode):
    cwd = lab.dir("cwd-shadow")
    lab.plant(cwd / "json.py", "cwd-on-sys.path")
    return Run(cwd=cwd, target=["-c", lab.code])


def _scriptdir_on_path(lab, mode):
    d = lab.dir("scriptdir")
    lab.plant(d / "json.py", "script-folder-on-sys.path")
    (d / "run.py").write_text(lab.code)
    return Run(target=[str(d / "run.py")])


def _openssl_conf(lab, mode):
    cnf = lab.root / "openssl.cnf"
    cnf.write_text(
        "openssl_conf = openssl_init\n[openssl_init]\n"
        "providers = provider_sect\n[provider_sect]\n"
        "evil = evil_sect\ndefault = default_sect\n"
        "[evil_sect]\nmodule = %s\nactivate = 1\n"
        "[default_sect]\nactivate = 1\n" % lab.evil_so())
    return Run(env={"OPENSSL_CONF": str(cnf)})


def _sysconfigdata(lab, mode):
    lab.plant(lab.app / "_evil_sysconfigdata.py", "_PYTHON_SYSCONFIGDATA_NAME",
              "build_time_vars = {}\n")
    return Run(env={"_PYTHON_SYSCONFIGDATA_NAME": "_evil_sysconfigdata"})


def _customize_in(folder_name, module):
    def vector(lab, mode):
        d = lab.dir(folder_name + "-" + module)
        lab.plant(d / (module + ".py"), "%s-in-%s" % (module, folder_name))
        if folder_name == "cwd":
            return Run(cwd=d)
        (d / "run.py").write_text(lab.code)
        return Run(target=[str(d / "run.py")])
    return vector


def _customize_user_site(module):
    def vector(lab, mode):
        home = lab.dir("home-" + module)
        lab.plant(home / ".local" / "lib" / ("python" + V) /
                  "site-packages" / (module + ".py"), module + "-user-site")
        return Run(env={"HOME": str(home)})
    return vector


def _customize_system_site(module):
    def vector(lab, mode):
        lab.plant(lab.site_packages() / (module + ".py"),
                  module + "-system-site")
        return Run(exe=lab.venv() / "bin" /
                   ("pyhost" if mode == "pyhost" else "python3"))
    return vector


def _pth_in_site(lab, mode):
    sp = lab.site_packages()
    lab.write(sp / "zz_evil.pth",
              "import _io; _io.FileIO(%r, 'w').close()\n"
              % str(lab.canaries / ".pth-in-site"))
    return Run(exe=lab.venv() / "bin" /
               ("pyhost" if mode == "pyhost" else "python3"))


def _evil_path_dir(lab):
    evil = lab.dir("evil-path")
    lab.plant(evil / "json.py", "exe._pth")
    return evil


def _exe_pth(lab, mode):
    folder = lab.dir("exe-pth")
    exe = lab.copy_exe(folder, mode)
    evil = _evil_path_dir(lab)
    lines = "%s\n%s\n%s\n" % (evil, embedtools.STDLIB, embedtools.DYNLOAD)
    (folder / (exe.name + "._pth")).write_text(lines)
    if mode != "pyhost":
        (folder / ("python" + V + "._pth")).write_text(lines)
    return Run(exe=exe)


def _python3_pth_on_path(lab, mode):
    folder = lab.dir("on-path")
    lab.copy_exe(folder, "python3")
    evil = _evil_path_dir(lab)
    (folder / "python3._pth").write_text(
        "%s\n%s\n%s\n" % (evil, embedtools.STDLIB, embedtools.DYNLOAD))
    return Run(env={"PATH": "%s:%s" % (folder, os.environ.get("PATH", ""))})


def _pyvenv_cfg(where):
    def vector(lab, mode):
        top = lab.dir("pyvenv-" + where)
        exe = lab.copy_exe(top / "bin", mode)
        cfg_dir = top / "bin" if where == "beside" else top
        (cfg_dir / "pyvenv.cfg").write_text(
            "home = %s\ninclude-system-site-packages = false\n"
            % os.path.dirname(lab.python))
        # site.venv() takes the parent of the executable's folder as the
        # prefix in both cases.
        sp = top / "lib" / ("python" + V) / "site-packages"
        sp.mkdir(parents=True, exist_ok=True)
        lab.write(sp / "zz_evil.pth",
                  "import _io; _io.FileIO(%r, 'w').close()\n"
                  % str(lab.canaries / ("pyvenv.cfg-" + where)))
        return Run(exe=exe)
    return vector


def _shadow_cwd(lab, mode):
    cwd = lab.dir("shadow-cwd")
    lab.plant_stdlib(cwd, "os.py-encodings-in-cwd")
    return Run(cwd=cwd)


def _shadow_exe_parent(lab, mode):
    top = lab.dir("shadow-parent")
    exe = lab.copy_exe(top / "bin", mode)
    lab.plant_stdlib(top, "os.py-encodings-above-exe")
    lab.plant_stdlib(top / "lib" / ("python" + V), "os.py-encodings-above-exe")
    return Run(exe=exe)


# (name shown in the table, setup, fires under plain python3 on this
# machine: the positive control that proves the vector is real)
VECTORS = [
    ("`PYTHONPATH` (`json.py`, `sitecustomize.py`)", _pythonpath, True),
    ("`PYTHONHOME` (planted stdlib)", _pythonhome, True),
    ("`PYTHONSTARTUP` (interactive prompt)", _pythonstartup, True),
    ("`PYTHONUSERBASE` (`usercustomize`)", _pythonuserbase, True),
    ("`HOME` (`usercustomize` in `~/.local`)", _home_usercustomize, True),
    ("`PYTHONPLATLIBDIR` (relative, escapes the prefix)", _platlibdir, True),
    ("`PYTHONINSPECT` (prompt after the program)", _pythoninspect, True),
    ("`PYTHONWARNINGS` (imports the category's module)", _pythonwarnings,
     True),
    ("`PYTHONSAFEPATH` unset: cwd on `sys.path` (`-c`)", _cwd_on_path, True),
    ("`PYTHONSAFEPATH` unset: script folder on `sys.path`", _scriptdir_on_path,
     True),
    ("`OPENSSL_CONF` (provider `.so`)", _openssl_conf, True),
    ("`_PYTHON_SYSCONFIGDATA_NAME`", _sysconfigdata, True),
    ("`sitecustomize.py` in the current folder",
     _customize_in("cwd", "sitecustomize"), False),
    ("`usercustomize.py` in the current folder",
     _customize_in("cwd", "usercustomize"), False),
    ("`sitecustomize.py` in the script's folder",
     _customize_in("scriptdir", "sitecustomize"), False),
    ("`usercustomize.py` in the script's folder",
     _customize_in("scriptdir", "usercustomize"), False),
    ("`sitecustomize.py` in the user site", _customize_user_site(
        "sitecustomize"), True),
    ("`usercustomize.py` in the user site", _customize_user_site(
        "usercustomize"), True),
    ("`sitecustomize.py` in the system site", _customize_system_site(
        "sitecustomize"), True),
    ("`usercustomize.py` in the system site", _customize_system_site(
        "usercustomize"), False),
    ("`.pth` with an import line in a site folder", _pth_in_site, True),
    ("`<exe>._pth` beside the executable", _exe_pth, True),
    ("`python3._pth` beside a `python3` on `PATH`", _python3_pth_on_path,
     False),
    ("`pyvenv.cfg` beside the executable", _pyvenv_cfg("beside"), True),
    ("`pyvenv.cfg` above the executable", _pyvenv_cfg("above"), True),
    ("`os.py`, `encodings/` in the current folder", _shadow_cwd, False),
    ("`os.py`, `encodings/` above the executable's folder",
     _shadow_exe_parent, True),
]


def _base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("OPENSSL_CONF", None)
    return env


def _run_tty(cmd, env, cwd, text, timeout):
    """Run cmd on a new pseudo-terminal, type text at the first prompt."""
    master, slave = os.openpty()

    def make_controlling():
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # see test_signals
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=cwd, preexec_fn=make_controlling)
    os.close(slave)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sent and b">>> " in out:
                os.write(master, text.encode())
                sent = True
            try:
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    chunk = os.read(master, 4096)
                    if not chunk:
                        break
                    out += chunk
            except OSError:
                break
            if proc.poll() is not None and not r:
                break
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return proc.returncode, out.decode(errors="replace")


def run_vector(lab, setup, mode, timeout=60):
    """Run one vector under one mode.  Returns (fired, returncode, output)
    where output holds stdout and stderr."""
    for f in lab.canaries.iterdir():
        f.unlink()
    r = setup(lab, mode)
    env = _base_env()
    env.update(r.env)
    if mode == "pyhost":
        exe = r.exe or lab.launcher
        cmd = [str(exe), "--paths", str(lab.pth)]
    else:
        exe = r.exe or lab.python
        cmd = [str(exe)] + FLAGS[mode]
    cwd = str(r.cwd or lab.cwd)
    if r.tty_input is not None:
        rc, out = _run_tty(cmd + (r.target or ["-q"]), env, cwd, r.tty_input,
                           timeout)
    else:
        cmd += r.target or [str(lab.app / "main.py")]
        p = subprocess.run(cmd, env=env, cwd=cwd, input=r.stdin or "",
                           capture_output=True, text=True, timeout=timeout)
        rc, out = p.returncode, p.stdout + p.stderr
    fired = any(lab.canaries.iterdir())
    return fired, rc, out


def syspath_of(output):
    """The sys.path the run printed, or None."""
    for line in output.splitlines():
        if line.startswith("SYSPATH="):
            return ast.literal_eval(line[len("SYSPATH="):])
    return None
