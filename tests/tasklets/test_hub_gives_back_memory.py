# SPDX-License-Identifier: MIT
"""Leak check: the hub's C objects and operations give back every block
after many rounds of each kind of call (successful, timed out, cancelled
by close, interrupted by a Timeout, select/poll waits, timers)."""
import gc
import sys

import pyhost
import pyhost.select as pselect
import pyhost.socket as psocket
from pyhost import tasklets


def _recv_until_closed(sock):
    try:
        sock.recv(1)
    except OSError:
        return "closed"


def _one_round():
    a, b = psocket.socketpair()
    with a, b:
        b.sendall(b"x" * 10)
        assert a.recv(10) == b"x" * 10
        pyhost.spawn(lambda: (pyhost.sleep(0.0005), b.send(b"y")))
        assert a.recv(1) == b"y"  # a real operation this time
        a.settimeout(0.0005)
        try:
            a.recv(1)
        except TimeoutError:
            pass
        buf = bytearray(4)
        pyhost.spawn(lambda: b.send(b"abcd"))
        a.settimeout(None)
        assert a.recv_into(buf) == 4
        with pyhost.Timeout(0.0005, False):
            a.recv(1)
        pselect.select([a], [], [], 0.0005)
        p = pselect.poll()
        p.register(a, pselect.POLLIN)
        p.poll(0.5)
        waiter = pyhost.spawn(lambda: pyhost.sleep(5))
        pyhost.schedule()
        waiter.kill()
        reader = pyhost.spawn(_recv_until_closed, a)
        pyhost.schedule()
        a.close()  # wakes the reader with EBADF
    reader.join()
    assert reader.value == "closed"
    pyhost.run()


def test_no_blocks_left_after_many_rounds(backend):
    for _ in range(100):  # warm up: caches and free lists settle
        _one_round()
    growth = []
    for _ in range(3):
        gc.collect()
        before = sys.getallocatedblocks()
        for _ in range(100):
            _one_round()
        gc.collect()
        growth.append(sys.getallocatedblocks() - before)
    # A leak in any call above adds at least one block per round in every
    # window; free lists and a rare first-time path move one window by a
    # few dozen at most.
    assert min(growth) < 100, f"blocks gained per 100 rounds: {growth}"
    assert tasklets.get_hub().pending == 0
