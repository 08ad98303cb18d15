# SPDX-License-Identifier: MIT
"""Isolation: a reset wakes only its own waiter, 10,000 connections leave
no fd or memory behind, and signals reach the main tasklet while the hub
waits."""
import gc
import os
import signal
import socket as stdsocket
import struct
import sys
import threading
import time

import pytest

import pyhost
import pyhost.socket as psocket
from pyhost import tasklets

from testenv import SANITIZED, scaled


def _fd_count():
    return len(os.listdir("/proc/self/fd"))


def _rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_reset_wakes_only_its_own_waiter(backend):
    srv = psocket.create_server(("127.0.0.1", 0))
    clients = [psocket.create_connection(srv.getsockname())
               for _ in range(2)]
    peers = [srv.accept()[0] for _ in range(2)]
    outcome = {}

    def reader(i):
        try:
            outcome[i] = clients[i].recv(10)
        except OSError as exc:
            outcome[i] = exc

    for i in range(2):
        pyhost.spawn(reader, i)
    pyhost.schedule()
    # Reset connection 0: SO_LINGER(1, 0) then close sends RST.
    peers[0].setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    peers[0].close()
    deadline = time.monotonic() + scaled(5)  # only against a hang
    while 0 not in outcome and time.monotonic() < deadline:
        pyhost.sleep(0.005)
    assert isinstance(outcome.get(0), ConnectionResetError)
    assert 1 not in outcome  # the other waiter still waits
    peers[1].sendall(b"fine")
    pyhost.sleep(0.02) if 1 not in outcome else None
    while 1 not in outcome:
        pyhost.sleep(0.005)
    assert outcome[1] == b"fine"
    for s in clients + [peers[1], srv]:
        s.close()


def test_ten_thousand_connections_leave_nothing_behind(backend):
    srv = psocket.create_server(("127.0.0.1", 0), backlog=512)
    addr = srv.getsockname()
    total = 10_000

    def acceptor():
        for _ in range(total):
            conn, _ = srv.accept()
            conn.sendall(b"x")
            conn.close()

    def round_trip(n):
        for _ in range(n):
            c = psocket.create_connection(addr)
            assert c.recv(1) == b"x"
            assert c.recv(1) == b""
            c.close()

    round_trip_warm = 200
    acc = pyhost.spawn(acceptor)
    round_trip(round_trip_warm)
    gc.collect()
    fds, rss, blocks = _fd_count(), _rss_kib(), sys.getallocatedblocks()
    workers = [pyhost.spawn(round_trip, (total - round_trip_warm) // 10)
               for _ in range(10)]
    for w in workers:
        w.join()
    acc.join()
    srv.close()
    gc.collect()
    assert _fd_count() == fds - 1  # the listening socket is gone too
    # Objects and the hub's own small allocations (PyMem) come back ...
    new_blocks = sys.getallocatedblocks() - blocks
    assert new_blocks < 1000, f"{new_blocks} memory blocks still allocated"
    # ... and the process does not grow (ASan keeps freed memory in its
    # quarantine, up to 256 MiB by default: hence the wide margin there).
    grown = _rss_kib() - rss
    assert grown < (300_000 if SANITIZED else 8_000), f"RSS grew {grown} KiB"
    assert tasklets.get_hub().pending == 0


def _in_main_after(delay, func):
    th = threading.Timer(delay, func)
    th.start()
    return th


@pytest.fixture
def sigint_raises():
    # A run started as a shell background job inherits SIGINT ignored, and
    # Python then installs no handler: give this test the usual one.
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def test_sigint_reaches_the_main_tasklet_while_hub_waits(backend,
                                                         sigint_raises):
    a, b = psocket.socketpair()
    with a, b:
        th = _in_main_after(0.05, lambda: os.kill(os.getpid(),
                                                  signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            a.recv(10)  # no timeout: only the signal can end this
        th.join()
        assert tasklets.get_hub().pending == 0
        b.sendall(b"still ok")
        assert a.recv(10) == b"still ok"


def test_signal_handler_exception_reaches_main_from_hub_wait(backend):
    def handler(signum, frame):
        raise ZeroDivisionError("from the handler")

    old = signal.signal(signal.SIGALRM, handler)
    ran = []
    try:
        # Another tasklet sleeps too, so the hub waits on a timer.
        pyhost.spawn(lambda: (pyhost.sleep(0.2), ran.append(1)))
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(ZeroDivisionError, match="from the handler"):
            pyhost.sleep(5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    pyhost.run()
    assert ran == [1]
