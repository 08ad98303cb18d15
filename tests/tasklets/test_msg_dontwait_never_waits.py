# SPDX-License-Identifier: MIT
"""MSG_DONTWAIT never waits: on a blocking or timed pyhost socket a send or
receive with the flag raises BlockingIOError at once, on the C paths (recv,
recv_into, send, sendall) and the Python ones (recvfrom, recvmsg, sendmsg,
...), while the same socket without the flag still waits."""
import errno
import socket as stdsocket
import time

import pytest

import pyhost
import pyhost.socket as psocket
from pyhost.tasklets import _hub
from testenv import scaled


def _fill(sock):
    """Send until the kernel buffer is full; return the bytes sent."""
    sent = 0
    chunk = b"x" * 65536
    while True:
        try:
            sent += sock.send(chunk, stdsocket.MSG_DONTWAIT)
        except BlockingIOError:
            return sent


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_msg_dontwait_never_waits_on_the_c_paths(backend, timeout):
    """recv, recv_into, send and sendall with MSG_DONTWAIT raise
    BlockingIOError (EAGAIN) instead of waiting for the socket's timeout."""
    a, b = psocket.socketpair()
    with a, b:
        a.settimeout(timeout)
        b.settimeout(timeout)
        start = time.monotonic()
        with pytest.raises(BlockingIOError) as info:
            b.recv(10, stdsocket.MSG_DONTWAIT)
        assert info.value.errno == errno.EAGAIN
        with pytest.raises(BlockingIOError):
            b.recv_into(bytearray(10), 10, stdsocket.MSG_DONTWAIT)
        assert _fill(a) > 0
        with pytest.raises(BlockingIOError):
            a.send(b"y" * 65536, stdsocket.MSG_DONTWAIT)
        with pytest.raises(BlockingIOError):
            a.sendall(b"y" * 65536, stdsocket.MSG_DONTWAIT)
        if timeout is not None:
            # No call waited for the socket's timeout (one that waited
            # forever would hang the test with timeout=None).
            assert time.monotonic() - start < timeout
        # Without the flag the same socket still waits (and times out).
        if timeout is not None:
            a.settimeout(0.05)
            with pytest.raises(TimeoutError):
                a.send(b"y" * 65536)
        assert _hub.get_hub().pending == 0


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_msg_dontwait_never_waits_on_the_python_paths(backend, timeout):
    """recvfrom, recvfrom_into, recvmsg, recvmsg_into and sendmsg with
    MSG_DONTWAIT raise BlockingIOError instead of waiting; data that is
    there comes out with the flag; bad arguments get the stdlib's errors."""
    a, b = psocket.socketpair()
    u1 = psocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    u2 = psocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    with a, b, u1, u2:
        for s in (a, b, u1, u2):
            s.settimeout(timeout)
        u1.bind(("127.0.0.1", 0))
        start = time.monotonic()
        dontwait = stdsocket.MSG_DONTWAIT
        calls = [
            lambda: b.recvfrom(10, dontwait),
            lambda: b.recvfrom_into(bytearray(10), 10, dontwait),
            lambda: b.recvmsg(10, 0, dontwait),
            lambda: b.recvmsg_into([bytearray(10)], 0, dontwait),
            lambda: u1.recvfrom(10, dontwait),
        ]
        for call in calls:
            with pytest.raises(BlockingIOError):
                call()
        _fill(a)
        with pytest.raises(BlockingIOError):
            a.sendmsg([b"z" * 65536], [], dontwait)
        if timeout is not None:
            # No call waited for the socket's timeout.
            assert time.monotonic() - start < timeout
        # Data that is there comes out with the flag as without it.
        u2.sendto(b"dgram", 0, u1.getsockname())
        deadline = time.monotonic() + scaled(5.0)  # only against a hang
        while True:
            try:
                assert u1.recvfrom(10, dontwait)[0] == b"dgram"
                break
            except BlockingIOError:
                assert time.monotonic() < deadline
                pyhost.sleep(0.001)
        # Bad arguments still get the stdlib's own errors.
        with pytest.raises(TypeError, match=r"\(1 given\)"):
            u2.sendto(b"foo")
        with pytest.raises(TypeError, match=r"\(4 given\)"):
            u2.sendto(b"foo", 0, u1.getsockname(), 4)
        assert _hub.get_hub().pending == 0
