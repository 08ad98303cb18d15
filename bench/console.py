# SPDX-License-Identifier: MIT
"""Console responsiveness: pyhost.console against the in-process Python
server that dowser, dozer and pympler.web use (a stdlib HTTP server on a
Python thread), while the application is idle, runs Python code, or holds
the GIL in C; and the Leaks page on a heap of a million objects.

    python bench/console.py [SECONDS_PER_CONDITION] [--objects N]

A client in its own process asks each server in turn, one request at a
time, for the whole condition.  The first table gives median and worst
latency and how the requests ended (HTTP status, or "timeout" after 5 s).
The second times each view of the Leaks page on a heap of N gc-tracked
objects (default 1,000,000; 0 skips it), with the console's default 1 s
page deadline.  These are the figures the tests do not assert (a test
checks that a no-GIL page answers before a GIL hold ends, and that the
Leaks page answers on a million objects, not how fast).
"""
import argparse
import ctypes
import gc
import http.client
import http.server
import json
import statistics
import subprocess
import sys
import threading
import time

from pyhost import console
from pyhost.console import _server

CLIENT = r"""
import http.client, json, sys, threading, time
port_c, token, port_s, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
targets = {"pyhost no-GIL page": (port_c, "/api/process"),
           "pyhost Python page": (port_c, "/api/gc"),
           "Python-thread server": (port_s, "/gc")}
out = {k: [] for k in targets}
def run(name, port, path):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        t = time.monotonic()
        try:
            c.request("GET", path, headers={"Cookie": "pyhost_console=" + token})
            r = c.getresponse(); r.read(); status = str(r.status)
        except OSError:
            status = "timeout"
        out[name].append([status, time.monotonic() - t])
        c.close()
        time.sleep(0.02)
ts = [threading.Thread(target=run, args=(n, *t)) for n, t in targets.items()]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps(out))
"""


class GcPage(http.server.BaseHTTPRequestHandler):
    """What an in-process Python console does per request."""

    def do_GET(self):
        import gc
        body = json.dumps({"counts": gc.get_count()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def measure(condition, seconds, port_c, token, port_s):
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, str(port_c),
                             token, str(port_s), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    if condition == "main thread holds the GIL in C":
        _server._hold_gil(seconds)
    elif condition == "main thread runs Python":
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sum(i * i for i in range(1000))
    out, _ = proc.communicate(timeout=seconds + 60)
    return json.loads(out)


LEAK_PAGES = ("/leaks", "/leaks?page=2&per=20", "/api/leaks",
              "/leaks?view=external")


class LeakedByTheBenchmark:
    """One object leaked on purpose, for the Leaks page to find."""


def leak_pages(port_c, token, objects, runs=5):
    """Time each view of the Leaks page `runs` times on a heap of `objects`
    gc-tracked objects; return rows (page, runs, median ms, worst ms,
    endings).  The client is this process: it waits in recv(), with the
    GIL released, while the console's worker renders."""
    class Item:
        __slots__ = ("v",)

    heap = [[Item()] for _ in range(objects // 2)]
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(LeakedByTheBenchmark()))
    gc.collect()   # so that no automatic collection lands in a request
    rows = []
    for path in LEAK_PAGES:
        lat, ends = [], {}
        for _ in range(runs):
            c = http.client.HTTPConnection("127.0.0.1", port_c, timeout=60)
            t = time.monotonic()
            c.request("GET", path,
                      headers={"Cookie": "pyhost_console=" + token})
            r = c.getresponse()
            r.read()
            lat.append(time.monotonic() - t)
            c.close()
            ends[str(r.status)] = ends.get(str(r.status), 0) + 1
        rows.append((path, runs, statistics.median(lat) * 1000,
                     max(lat) * 1000, ends))
    del heap
    gc.collect()
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seconds", nargs="?", type=float, default=3.0,
                    help="seconds per responsiveness condition")
    ap.add_argument("--objects", type=int, default=1_000_000,
                    help="gc-tracked objects on the Leaks page's heap "
                         "(0: skip that table)")
    args = ap.parse_args(argv)
    seconds = args.seconds
    url = console.start(sample_interval=0)
    port_c = int(url.split(":")[2].split("/")[0])
    token = url.split("token=")[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GcPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    leak_rows = []
    try:
        for condition in ("main thread idle", "main thread runs Python",
                          "main thread holds the GIL in C"):
            res = measure(condition, seconds, port_c, token,
                          server.server_address[1])
            for target, samples in res.items():
                lat = [s for _, s in samples]
                ends = {}
                for status, _ in samples:
                    ends[status] = ends.get(status, 0) + 1
                rows.append((condition, target, len(samples),
                             statistics.median(lat) * 1000,
                             max(lat) * 1000, ends))
        if args.objects > 0:
            try:
                import pyhost.leaks  # noqa: F401 (the page needs it)
            except ImportError:
                print("pyhost.leaks is not built: no Leaks page table\n")
            else:
                leak_rows = leak_pages(port_c, token, args.objects)
    finally:
        server.shutdown()
        console.stop()
    print(f"Console responsiveness, Python {sys.version.split()[0]}, "
          f"{seconds:.0f} s per condition (lower is better)\n")
    print(f"| condition | server | requests | median ms | worst ms | "
          f"ended |")
    print("|---|---|---:|---:|---:|---|")
    base = {}
    for cond, target, n, med, worst, ends in rows:
        ended = ", ".join(f"{k}: {v}" for k, v in sorted(ends.items()))
        print(f"| {cond} | {target} | {n} | {med:.2f} | {worst:.1f} | "
              f"{ended} |")
        base[(cond, target)] = worst
    print()
    for cond in ("main thread runs Python", "main thread holds the GIL in C"):
        ours = base[(cond, "pyhost no-GIL page")]
        theirs = base[(cond, "Python-thread server")]
        print(f"{cond}: worst latency, Python-thread server / pyhost no-GIL "
              f"page = {theirs / ours:.0f}x")
    held = base[("main thread holds the GIL in C", "pyhost no-GIL page")]
    print(f"no-GIL page while C holds the GIL: worst {held:.1f} ms "
          f"(target: under 50 ms)")
    if leak_rows:
        print(f"\nLeaks page on a heap of {args.objects:,} gc-tracked "
              f"objects, Python {sys.version.split()[0]}, default 1 s page "
              f"deadline (target: every view under 1 s)\n")
        print("| page | requests | median ms | worst ms | ended |")
        print("|---|---:|---:|---:|---|")
        for path, n, med, worst, ends in leak_rows:
            ended = ", ".join(f"{k}: {v}" for k, v in sorted(ends.items()))
            print(f"| {path} | {n} | {med:.1f} | {worst:.1f} | {ended} |")


if __name__ == "__main__":
    main(sys.argv[1:])
