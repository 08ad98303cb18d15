# SPDX-License-Identifier: MIT
"""A client for the responsiveness and load tests, run as its own process
(so it never waits for the console process's GIL).

    probe_client.py timeline PORT TOKEN DELAY DURATION
        after DELAY s, GET the no-GIL pages every 50 ms for DURATION s, and
        one Python page at the start; print one JSON line of timings.
    probe_client.py hold PORT TOKEN
        print "ready", then GET the no-GIL pages every 50 ms until stdin
        closes; once /api/responsiveness shows the GIL held (a GIL request
        waiting 200 ms or more), also GET one Python page.  Print one JSON
        line: each answer with the time.monotonic() it was sent and
        answered (CLOCK_MONOTONIC: the same clock as the test's, so the test
        can compare them with when it held the GIL).
    probe_client.py burst PORT TOKEN COUNT
        once /api/responsiveness shows the GIL held, COUNT Python pages at
        once, one connection each; print each answer's status and first
        line.
    probe_client.py load PORT TOKEN TOTAL CONCURRENCY
        TOTAL requests over CONCURRENCY keep-alive connections (9 no-GIL
        pages to 1 Python page); print status counts and RSS samples.
"""
import http.client
import json
import sys
import threading
import time

NOGIL = ("/api/responsiveness", "/api/process", "/process",
         "/responsiveness")


def get(conn, path, token):
    t0 = time.monotonic()
    conn.request("GET", path, headers={"Cookie": f"pyhost_console={token}"})
    r = conn.getresponse()
    body = r.read()
    return r.status, time.monotonic() - t0, body


def timeline(port, token, delay, duration):
    time.sleep(delay)
    out = {"nogil": [], "python": None}

    def python_page():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, secs, body = get(c, "/api/gc", token)
        out["python"] = [status, secs, body.decode()[:200]]

    t = threading.Thread(target=python_page)
    t.start()
    end = time.monotonic() + duration
    i = 0
    while time.monotonic() < end:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, secs, _ = get(c, NOGIL[i % len(NOGIL)], token)
        c.close()
        out["nogil"].append([status, secs])
        i += 1
        time.sleep(0.05)
    t.join()
    print(json.dumps(out))


GIL_HELD_MS = 200   # a GIL request waiting this long: the GIL is held


def gil_held(port, token):
    """Is a GIL request waiting for GIL_HELD_MS or more right now?"""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        _, _, body = get(c, "/api/responsiveness", token)
    finally:
        c.close()
    return json.loads(body)["gil_waiting_ms"] >= GIL_HELD_MS


def hold(port, token):
    out = {"nogil": [], "python": None}
    closed = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        closed.set()

    def python_page():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        sent = time.monotonic()
        status, _, body = get(c, "/api/gc", token)
        out["python"] = [status, sent, time.monotonic(), body.decode()[:300]]
        c.close()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("ready", flush=True)
    asker = None
    i = 0
    while not closed.is_set():
        path = NOGIL[i % len(NOGIL)]
        i += 1
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        sent = time.monotonic()
        status, _, body = get(c, path, token)
        answered = time.monotonic()
        c.close()
        data = json.loads(body) if path == "/api/responsiveness" else None
        out["nogil"].append([path, status, sent, answered, data])
        if asker is None and data is not None and \
                data["gil_waiting_ms"] >= GIL_HELD_MS:
            asker = threading.Thread(target=python_page)
            asker.start()
        closed.wait(0.05)
    if asker is not None:
        asker.join()
    print(json.dumps(out))


def burst(port, token, count):
    out = []
    while not gil_held(port, token):
        time.sleep(0.02)

    def ask():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, _, body = get(c, "/api/gc", token)
        c.close()
        out.append([status, body.decode().split("\n")[0]])

    threads = [threading.Thread(target=ask) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(out))


def load(port, token, total, concurrency):
    statuses = {}
    rss = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            path = "/api/gc" if n % 10 == 0 else NOGIL[n % len(NOGIL)]
            try:
                status, _, body = get(c, path, token)
            except (OSError, http.client.HTTPException) as e:
                status, body = type(e).__name__, b""
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if path == "/api/process" and status == 200 and n % 50 == 1:
                    rss.append([n, json.loads(body)["rss_kb"]])
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"statuses": {str(k): v for k, v in statuses.items()},
                      "rss": sorted(rss)}))


if __name__ == "__main__":
    mode, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "timeline":
        timeline(port, token, float(sys.argv[4]), float(sys.argv[5]))
    elif mode == "hold":
        hold(port, token)
    elif mode == "burst":
        burst(port, token, int(sys.argv[4]))
    else:
        load(port, token, int(sys.argv[4]), int(sys.argv[5]))
