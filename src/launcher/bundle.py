# SPDX-License-Identifier: MIT
"""pyhost bundle: lay out a relocatable application folder.

Runs inside the launcher (through libpyhost, on the stdlib pyhost was built
against); bundle.c passes what only the process knows in sys.argv.  The
folder it makes:

    DIR/pyhost                    the launcher
    DIR/libpyhost.so              found through the launcher's $ORIGIN rpath
    DIR/libpython3.X.so.1.0       found through libpyhost's $ORIGIN rpath
    DIR/lib/python3X.zip          the stdlib, sourceless .pyc files only
    DIR/lib/lib-dynload/          the stdlib's extension modules
    DIR/app/                      --app PATH (a folder's content or a file)
    DIR/app.zip                   ... or --app PATH.zip, kept as a zip
    DIR/pyhost._pth               names only lib/python3X.zip, lib-dynload, app

The zip holds compiled code only: nothing in it can be shadowed by a forged
__pycache__, and zipimport never writes.
"""
import importlib.util
import os
import shutil
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

# Top-level stdlib entries a bundled application does not need.
SKIP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
        "site-packages", "dist-packages", "lib-dynload", "__pycache__",
        "venv", "pydoc_data", "__phello__"}
# Folders skipped at any depth: caches and packages' own test suites.
TEST_DIRS = {"__pycache__", "test", "tests", "idle_test"}


def fail(message):
    raise SystemExit("pyhost bundle: " + message)


def stdlib_pyc(path, rel):
    """Return the bytes of a .pyc for the source at path: the stdlib's own
    cached one when it is current, else freshly compiled (unchecked hash,
    so zipimport never looks for a source)."""
    cached = importlib.util.cache_from_source(path)
    st = os.stat(path)
    try:
        with open(cached, "rb") as f:
            data = f.read()
        flags = int.from_bytes(data[4:8], "little")
        mtime = int.from_bytes(data[8:12], "little")
        size = int.from_bytes(data[12:16], "little")
        if (data[:4] == importlib.util.MAGIC_NUMBER and flags == 0
                and mtime == int(st.st_mtime) & 0xFFFFFFFF
                and size == st.st_size & 0xFFFFFFFF):
            return data
    except OSError:
        pass
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, rel, "exec", dont_inherit=True)
    return _code_to_hash_pyc(code, importlib.util.source_hash(source), False)


def write_stdlib_zip(stdlib, target):
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
        for root, dirs, files in os.walk(stdlib):
            rel_root = os.path.relpath(root, stdlib)
            top = rel_root.split(os.sep)[0]
            dirs[:] = sorted(d for d in dirs if d not in TEST_DIRS and not (
                rel_root == "." and (d in SKIP or d.startswith("config-"))))
            if top in SKIP:
                continue
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                rel = os.path.normpath(os.path.join(rel_root, name))
                try:
                    data = stdlib_pyc(os.path.join(root, name), rel)
                except SyntaxError:
                    continue  # lib2to3-style test data, never imported
                zf.writestr(rel[:-3] + ".pyc", data)
                count += 1
    if count == 0:
        fail("no stdlib module found in %s" % stdlib)


def copy_app(app, target):
    if not os.path.exists(app):
        fail("--app %s does not exist" % app)
    if os.path.isdir(app):
        shutil.copytree(app, target,
                        ignore=shutil.ignore_patterns("__pycache__"))
    else:
        os.makedirs(target)
        shutil.copy2(app, target)


def main(argv):
    (_, dest, app, exe, libpyhost, libpython,
     stdlib, dynload, version) = argv
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        fail("%s exists and is not an empty folder" % dest)
    for what, path in (("stdlib", stdlib), ("lib-dynload", dynload)):
        if not os.path.isdir(path):
            fail("the %s of the Python pyhost was built against is missing: %s"
                 % (what, path))
    os.makedirs(os.path.join(dest, "lib"), exist_ok=True)
    shutil.copy2(exe, os.path.join(dest, "pyhost"))
    for lib in {libpyhost, libpython} - {exe}:
        shutil.copy2(lib, os.path.join(dest, os.path.basename(lib)))
    zip_name = "python%s.zip" % version.replace(".", "")
    write_stdlib_zip(stdlib, os.path.join(dest, "lib", zip_name))
    shutil.copytree(dynload, os.path.join(dest, "lib", "lib-dynload"))
    entries = ["lib/" + zip_name, "lib/lib-dynload"]
    if app.endswith(".zip") and os.path.isfile(app):
        # A zipped application stays sealed: one more zip entry.
        shutil.copy2(app, os.path.join(dest, "app.zip"))
        entries.append("app.zip")
    elif app:
        copy_app(app, os.path.join(dest, "app"))
        entries.append("app")
    with open(os.path.join(dest, "pyhost._pth"), "w", encoding="utf-8") as f:
        f.write("# pyhost bundle: the whole sys.path, relative to this "
                "file.\n")
        f.write("".join(e + "\n" for e in entries))
    print("pyhost bundle: %s ready (run %s)"
          % (dest, os.path.join(dest, "pyhost")), file=sys.stderr)


main(sys.argv)
