# SPDX-License-Identifier: MIT
"""python -m pyhost.demo.pathfile FILE: write the demo's path file.

The demo runs under the ``pyhost`` launcher, whose ``sys.path`` is exactly
the entries of its path file.  The demo needs three: the stdlib and
lib-dynload of the interpreter pyhost was installed for, and the
site-packages folder where pyhost and greenlet are.  Site stays off, so no
``.pth`` file in that folder runs.
"""
import pathlib
import sys
import sysconfig


def entries():
    """The demo's sys.path, for the interpreter running this."""
    return [
        sysconfig.get_path("stdlib"),
        sysconfig.get_config_var("DESTSHARED"),     # lib-dynload
        sysconfig.get_path("platlib"),              # pyhost, greenlet
    ]


def write(path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# The demo's whole sys.path (python -m pyhost.demo.pathfile)\n"
                    + "".join(f"{e}\n" for e in entries()), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m pyhost.demo.pathfile FILE")
    write(sys.argv[1])
