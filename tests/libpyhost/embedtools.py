# SPDX-License-Identifier: MIT
"""Helpers shared by the libpyhost tests and bench/hostile_environment.py:
where the installed launcher and libpyhost are, the stdlib they were built
against, how to write a path file, and how to compile a C program against
the installed libpyhost."""
import os
import pathlib
import subprocess
import sys
import sysconfig

from testenv import SANITIZED, scaled

VERSION = "%d.%d" % sys.version_info[:2]
SCRIPTS = pathlib.Path(sysconfig.get_path("scripts"))
PLATLIB = pathlib.Path(sysconfig.get_path("platlib"))
# The launcher is found where `pip install .` put it: the scripts folder of
# the interpreter running the tests (the venv's bin/), never the build dir.
LAUNCHER = SCRIPTS / "pyhost"
PACKAGE = PLATLIB / "pyhost"
LIBPYHOST = PACKAGE / "libpyhost.so"
INCLUDE = PACKAGE / "include"
STDLIB = os.path.realpath(sysconfig.get_path("stdlib"))
DYNLOAD = os.path.realpath(sysconfig.get_config_var("DESTSHARED"))
# The base interpreter (python3 outside the venv), for side-by-side runs.
BASE_PYTHON = os.path.realpath(
    os.path.join(sys.base_prefix, "bin", "python" + VERSION))
REPO = pathlib.Path(__file__).resolve().parents[2]


def write_pth(path, entries, extra=""):
    """Write a ._pth file listing entries (one a line), return its path."""
    path = pathlib.Path(path)
    path.write_text("".join("%s\n" % e for e in entries) + extra)
    return path


def base_pth(tmp, *extra):
    """A path file naming the stdlib, lib-dynload and extra entries."""
    return write_pth(pathlib.Path(tmp) / "test._pth",
                     [STDLIB, DYNLOAD, *map(str, extra)])


def compile_c(sources, output, use_python=True, extra=()):
    """Compile C sources against the installed libpyhost (and CPython's
    headers), with rpaths to both.  Returns the executable's path."""
    libdir = sysconfig.get_config_var("LIBDIR")
    cmd = [sysconfig.get_config_var("CC").split()[0] or "cc", "-std=c11",
           "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
           *map(str, sources), "-I", str(INCLUDE), "-o", str(output),
           str(LIBPYHOST), "-Wl,-rpath,%s:%s" % (PACKAGE, libdir)]
    if use_python:
        cmd += ["-I", sysconfig.get_path("include"), "-L", libdir,
                "-lpython" + VERSION + sys.abiflags]
    if SANITIZED:
        cmd += ["-fsanitize=address,undefined"]
    cmd += list(extra)
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return pathlib.Path(output)


def run(cmd, timeout=None, **kwargs):
    """subprocess.run with text output captured.  timeout (default 60 s,
    widened by testenv.scaled) only stops a hung child."""
    if timeout is None:
        timeout = scaled(60)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run([str(c) for c in cmd], timeout=timeout, **kwargs)
