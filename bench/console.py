# SPDX-License-Identifier: MIT
"""Console responsiveness: pyhost.console against the in-process Python
server that dowser, dozer and pympler.web use (a stdlib HTTP server on a
Python thread), while the application is idle, runs Python code, or holds
the GIL in C.

    python bench/console.py [SECONDS_PER_CONDITION]

A client in its own process asks each server in turn, one request at a
time, for the whole condition.  The table gives median and worst latency
and how the requests ended (HTTP status, or "timeout" after 5 s).
"""
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


def main(argv):
    seconds = float(argv[0]) if argv else 3.0
    url = console.start(sample_interval=0)
    port_c = int(url.split(":")[2].split("/")[0])
    token = url.split("token=")[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GcPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
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


if __name__ == "__main__":
    main(sys.argv[1:])
