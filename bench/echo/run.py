# SPDX-License-Identifier: MIT
"""Loopback TCP echo benchmark: pyhost against its peers, side by side.

Builds the C load client and the C epoll echo server (the ceiling) with cc,
then for each round starts every server in turn (a fresh process, pinned to
one core; the client pinned to the other), drives it at 1, 10 and 100
connections with 100 B and 16 KiB messages, and reads the server's CPU time
over exactly the measured window.  Kinds are interleaved round by round (the
order rotates), so slow drift of the machine hits every kind alike.  Prints
one table: medians of round trips per second and of server CPU microseconds
per round trip, with ratios against gevent and uvloop streams.

    build/venv-3.11/bin/python bench/echo/run.py [--rounds 5] [--seconds 1]

Run it with the interpreter whose venv has pyhost, gevent and uvloop: a kind
whose module does not import is left out and named under the table.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SERVERS = HERE / "servers.py"

KINDS = [
    "pyhost-uring", "pyhost-epoll", "gevent", "threads",
    "asyncio-streams", "asyncio-proto", "uvloop-streams", "uvloop-proto",
    "c-epoll",
]
CONNS = [1, 10, 100]
SIZES = [100, 16384]


def build_c(outdir):
    """Compile the C client and server; return their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    paths = {}
    for name in ("echo_client", "echo_server"):
        src, exe = HERE / f"{name}.c", outdir / name
        if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
            subprocess.run([cc, "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall",
                            "-Wextra", "-Werror", "-o", str(exe), str(src)],
                           check=True)
        paths[name] = exe
    return paths


def probe_kind(kind):
    """Return None when KIND can run here, else the reason it cannot."""
    code = {
        "pyhost-uring": "import pyhost.socket, pyhost.tasklets as t; "
                        "t.set_backend('uring')",
        "pyhost-epoll": "import pyhost.socket, pyhost.tasklets as t; "
                        "t.set_backend('epoll')",
        "gevent": "import gevent",
        "uvloop-streams": "import uvloop",
        "uvloop-proto": "import uvloop",
    }.get(kind)
    if code is None:
        return None
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True)
    if r.returncode == 0:
        return None
    lines = r.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {r.returncode}"


class Server:
    """One server process, pinned, started fresh for each round."""

    def __init__(self, kind, exe, pin):
        if kind == "c-epoll":
            cmd = [str(exe["echo_server"])]
        else:
            cmd = [sys.executable, str(SERVERS), "--kind", kind]
        self.proc = subprocess.Popen(pin + cmd, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port="):
            self.stop()
            raise RuntimeError(f"{kind}: server did not start ({line!r})")
        self.port = int(line.split("=")[1])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def measure(exe, pin, server, conns, size, seconds):
    """Return (round trips per second, server CPU microseconds per rt)."""
    cmd = pin + [str(exe["echo_client"]), str(server.port), str(conns),
                 str(size), str(seconds), str(server.proc.pid)]
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=seconds * 3 + 30)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    fields = dict(f.split("=") for f in out.stdout.split())
    rt, secs, cpu = int(fields["rt"]), float(fields["secs"]), \
        int(fields["cpu_us"])
    if rt == 0:
        raise RuntimeError("no round trip completed")
    return rt / secs, (cpu / rt if cpu >= 0 else float("nan"))


def versions():
    items = [f"Python {platform.python_version()}",
             f"kernel {platform.release()}"]
    for mod in ("greenlet", "gevent", "uvloop"):
        try:
            m = __import__(mod)
            items.append(f"{mod} {m.__version__}")
        except ImportError:
            pass
    return ", ".join(items)


def fmt_ratio(a, b):
    if not b or b != b or a != a:
        return "-"
    return f"{a / b:.2f}x"


def print_table(results, kinds, seconds, rounds, pinned, missing):
    # Plain lines, not "# ...": bench/run.py copies this output into
    # docs/benchmarks.md, where a leading "#" would be a heading.
    print(f"Echo benchmark: {versions()}.")
    pinning = ("server pinned to core 0, client to core 1" if pinned
               else "NOT pinned (taskset or a second core is missing)")
    print(f"{rounds} interleaved rounds x {seconds:g} s per cell, "
          f"medians; {pinning}.")
    print()
    print("| conns | msg | server | rt/s | server CPU us/rt | rt/s vs gevent"
          " | rt/s vs uvloop-streams | CPU vs uvloop-streams |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for size in SIZES:
        for conns in CONNS:
            med = {}
            for kind in kinds:
                samples = results.get((kind, conns, size), [])
                if samples:
                    med[kind] = (statistics.median(s[0] for s in samples),
                                 statistics.median(s[1] for s in samples))
            g = med.get("gevent", (None, None))
            u = med.get("uvloop-streams", (None, None))
            label = "100 B" if size == 100 else f"{size // 1024} KiB"
            for kind in kinds:
                if kind not in med:
                    continue
                rts, cpu = med[kind]
                print(f"| {conns} | {label} | {kind} | {rts:,.0f} | "
                      f"{cpu:.1f} | {fmt_ratio(rts, g[0])} | "
                      f"{fmt_ratio(rts, u[0])} | {fmt_ratio(cpu, u[1])} |")
    if missing:
        print()
    for kind, why in missing.items():
        print(f"Not measured: {kind}: {why}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="measured window per cell (plus a warm-up)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="comma-separated subset of: " + ",".join(KINDS))
    parser.add_argument("--builddir",
                        default=str(ROOT / "build" / "bench-echo"))
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")

    exe = build_c(Path(args.builddir))
    missing = {}
    for kind in list(kinds):
        why = probe_kind(kind)
        if why:
            missing[kind] = why
            kinds.remove(kind)
    pinned = shutil.which("taskset") is not None and os.cpu_count() >= 2
    server_pin = ["taskset", "-c", "0"] if pinned else []
    client_pin = ["taskset", "-c", "1"] if pinned else []

    results = {}
    for rnd in range(args.rounds):
        order = kinds[rnd % len(kinds):] + kinds[:rnd % len(kinds)]
        for kind in order:
            try:
                server = Server(kind, exe, server_pin)
            except RuntimeError as e:
                missing[kind] = str(e)
                continue
            try:
                time.sleep(0.1)
                for size in SIZES:
                    for conns in CONNS:
                        try:
                            r = measure(exe, client_pin, server, conns, size,
                                        args.seconds)
                        except (RuntimeError,
                                subprocess.TimeoutExpired) as e:
                            print(f"# round {rnd + 1}: {kind} {conns}x{size}:"
                                  f" failed: {e}", file=sys.stderr)
                            continue
                        results.setdefault((kind, conns, size), []).append(r)
            finally:
                server.stop()
        print(f"# round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    print_table(results, [k for k in KINDS if k in kinds], args.seconds,
                args.rounds, pinned, missing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
