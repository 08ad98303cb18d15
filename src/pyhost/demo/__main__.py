# SPDX-License-Identifier: MIT
"""python -m pyhost.demo: start the game server (and, if asked, the console).

Under the launcher, ``pyhost --console 127.0.0.1:0 -m pyhost.demo`` starts
the console before this runs; ``--console`` here does the same for a plain
``python3``.
"""
import argparse
import sys

import pyhost

from .server import serve


def _parse_console(value):
    host, sep, port = value.rpartition(":")
    try:
        return (host if sep else "127.0.0.1"), int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--console takes [HOST:]PORT, not {value!r}") from None


def _python_command():
    """How to start another interpreter like this one (for the hint)."""
    try:
        import _pyhost_embed        # present under the pyhost launcher
    except ImportError:
        return sys.executable
    path_file = _pyhost_embed.config().get("path_file")
    return f"{sys.executable} --paths {path_file}" if path_file \
        else sys.executable


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pyhost.demo",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0,
                        help="game port (default: any free port)")
    parser.add_argument("--console", type=_parse_console, metavar="[HOST:]PORT",
                        help="also start the live console")
    args = parser.parse_args(argv)

    if args.console:
        from pyhost import console
        url = console.start(host=args.console[0], port=args.console[1])
        print(f"pyhost console: {url}", file=sys.stderr, flush=True)

    def ready(addr):
        host, port = addr
        print(f"pyhost demo: game server listening on {host}:{port}\n"
              f"connect a client: {_python_command()} -m pyhost.demo.client "
              f"--port {port}", file=sys.stderr, flush=True)

    server = pyhost.spawn(serve, args.host, args.port, ready)
    try:
        pyhost.run()
    except KeyboardInterrupt:
        print("pyhost demo: stopped", file=sys.stderr)
    finally:
        if server.alive:
            server.kill()


if __name__ == "__main__":
    main()
