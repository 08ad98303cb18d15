# SPDX-License-Identifier: MIT
"""Build step: turn a Python source file into a C header holding it as one
string constant, so the launcher carries its bundle.py without needing any
file at run time.  usage: py2c.py INPUT.py OUTPUT.h NAME"""
import sys


def main(src, dst, name):
    with open(src, encoding="utf-8") as f:
        lines = f.read().splitlines()
    origin = src.rsplit("/", 1)[-1]
    out = ["/* Generated from %s by py2c.py: do not edit. */" % origin,
           "static const char %s[] =" % name]
    for line in lines:
        # "?" too: in strict C11 "??x" would be a trigraph.
        escaped = (line.replace("\\", "\\\\").replace('"', '\\"')
                   .replace("?", "\\?"))
        out.append('    "%s\\n"' % escaped)
    out[-1] += ";"
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
