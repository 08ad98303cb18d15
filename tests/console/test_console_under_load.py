# SPDX-License-Identifier: MIT
"""Load: 10,000 requests from a bounded client (8 keep-alive connections,
one Python page in ten) while the main thread is busy: no errors, and the
process's memory is flat after warm-up."""
import gc
import json
import os
import subprocess
import sys
import time

from testenv import SANITIZED

from console_helpers import HERE, client_env

CLIENT = os.path.join(HERE, "probe_client.py")
WARMUP, TOTAL = 2_000, 10_000


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def load_while_busy(client, n):
    """n requests from the client process while the main thread allocates
    and drops objects and runs Python; returns the client's report."""
    proc = subprocess.Popen([sys.executable, CLIENT, "load",
                             str(client.port), client.token, str(n), "8"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=client_env())
    table = {}
    i = 0
    while proc.poll() is None:
        table[i % 5000] = [i, str(i), {"k": i}]
        i += 1
        if i % 2000 == 0:
            time.sleep(0)   # a real server also waits on I/O sometimes
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert i > 100   # the main thread really ran meanwhile
    return json.loads(out)


def memory():
    gc.collect()
    return rss_kb(), sys.getallocatedblocks()


def test_ten_thousand_requests_while_busy(client):
    t0 = time.monotonic()
    warm = load_while_busy(client, WARMUP)
    rss0, blocks0 = memory()
    rest = load_while_busy(client, TOTAL - WARMUP)
    rss1, blocks1 = memory()
    for res, n in ((warm, WARMUP), (rest, TOTAL - WARMUP)):
        assert res["statuses"] == {"200": n}, res["statuses"]
    served = client.json("/api/responsiveness")
    assert served["served_py"] >= TOTAL // 10
    assert served["served_c"] >= TOTAL * 9 // 10
    # Flat: Python objects the same within noise, and (outside ASan, whose
    # quarantine holds freed memory on purpose) RSS within allocator noise.
    assert blocks1 - blocks0 < 2000, (blocks0, blocks1)
    if not SANITIZED:
        assert rss1 - rss0 < 4096, (rss0, rss1)
    print(f"{TOTAL} requests in {time.monotonic() - t0:.1f} s; after "
          f"warm-up RSS {rss1 - rss0:+d} kB, blocks {blocks1 - blocks0:+d}")
