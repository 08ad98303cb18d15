# SPDX-License-Identifier: MIT
"""python -m pyhost.demo.client: bots that play on the demo game server.

Each bot is a tasklet with its own connection: it joins, then moves and
chats at random until the time is up (or forever), and prints a line a
second with what the server sent.  Enough to watch the console's Leaks and
Memory pages move.
"""
import argparse
import random
import sys
import time

import pyhost
from pyhost import socket


def bot(name, host, port, seconds, pace, stats):
    conn = socket.create_connection((host, port), timeout=10)
    reader = conn.makefile("rb")
    drain = None
    try:
        reader.readline()                       # WELCOME
        conn.sendall(f"NAME {name}\n".encode())
        drain = pyhost.spawn(_drain, reader, stats)
        deadline = time.monotonic() + seconds if seconds else None
        rng = random.Random(name)
        while deadline is None or time.monotonic() < deadline:
            if rng.random() < 0.7:
                line = f"MOVE {rng.randint(-1, 1)} {rng.randint(-1, 1)}\n"
            else:
                line = f"SAY hello from {name} #{stats['sent']}\n"
            conn.sendall(line.encode())
            stats["sent"] += 1
            pyhost.sleep(pace)
        conn.sendall(b"QUIT\n")
    finally:
        # The reader belongs to the drain tasklet until it ends: after QUIT
        # the server closes, and the drain sees EOF.  Shut down if it lingers.
        if drain is not None and not drain.join(timeout=5):
            conn.shutdown(socket.SHUT_RDWR)
            drain.join()
        reader.close()
        conn.close()


def _drain(reader, stats):
    try:
        for _ in iter(reader.readline, b""):
            stats["received"] += 1
    except OSError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pyhost.demo.client",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bots", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0,
                        help="how long to play (default: until Ctrl-C)")
    parser.add_argument("--pace", type=float, default=0.05,
                        help="seconds between a bot's commands")
    args = parser.parse_args(argv)
    if args.bots < 1 or args.seconds < 0 or args.pace < 0:
        parser.error("--bots must be at least 1; --seconds and --pace "
                     "must not be negative")

    stats = {"sent": 0, "received": 0}
    bots = [pyhost.spawn(bot, f"bot{i}", args.host, args.port, args.seconds,
                         args.pace, stats) for i in range(args.bots)]
    try:
        while any(b.alive for b in bots):
            pyhost.sleep(1)
            print(f"sent {stats['sent']} commands, "
                  f"received {stats['received']} events", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        for b in bots:
            b.kill()
    failed = [b for b in bots if b.exception is not None]
    if failed:
        sys.exit(f"client: {len(failed)} bot(s) failed: "
                 f"{failed[0].exception!r}")


if __name__ == "__main__":
    main()
