# SPDX-License-Identifier: MIT
"""pyhost.socket as a drop-in for the stdlib: the class, the helpers,
UDP, Unix sockets, makefile, sendfile, name resolution and bad input."""
import errno
import os
import socket as stdsocket
import subprocess
import sys
import tempfile
import textwrap
import threading

import pytest

import pyhost
import pyhost.socket as psocket


def test_is_a_stdlib_socket(backend):
    s = psocket.socket()
    with s:
        assert isinstance(s, stdsocket.socket)
        assert s.family == stdsocket.AF_INET
        assert s.type == stdsocket.SOCK_STREAM
        assert "pyhost.tasklets.socket.socket" in repr(s)
    assert psocket.timeout is TimeoutError
    assert psocket.error is OSError
    assert psocket.gaierror is stdsocket.gaierror
    assert psocket.AF_INET == stdsocket.AF_INET


def test_tcp_echo_between_tasklets(backend):
    srv = psocket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = srv.accept()
        assert isinstance(conn, psocket.socket)
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    pyhost.spawn(serve)
    with psocket.create_connection(srv.getsockname()) as c:
        big = os.urandom(3 * 1024 * 1024)
        sender = pyhost.spawn(c.sendall, big)
        got = bytearray()
        while len(got) < len(big):
            got += c.recv(1 << 20)
        assert bytes(got) == big
        sender.join()
        buf = bytearray(4)
        c.sendall(b"ping")
        assert c.recv_into(buf) == 4 and buf == b"ping"
    pyhost.run()
    srv.close()


def test_stdlib_client_code_works_on_pyhost_sockets(backend):
    """makefile-based stdlib code (here: readline) on a pyhost socket."""
    a, b = psocket.socketpair()
    with a, b:
        wf = b.makefile("wb")
        pyhost.spawn(lambda: (wf.write(b"one\ntwo\n"), wf.flush()))
        rf = a.makefile("rb")
        assert rf.readline() == b"one\n"
        assert rf.readline() == b"two\n"
        rf.close()
        wf.close()


def test_udp_and_unix_sockets(backend):
    u1 = psocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    u2 = psocket.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
    with u1, u2:
        u1.bind(("127.0.0.1", 0))
        pyhost.spawn(lambda: (pyhost.sleep(0.01),
                              u2.sendto(b"dgram", u1.getsockname())))
        data, addr = u1.recvfrom(100)
        assert data == b"dgram" and addr[1] == u2.getsockname()[1]
        u1.settimeout(0.02)
        with pytest.raises(TimeoutError):
            u1.recvfrom(100)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s")
        srv = psocket.socket(stdsocket.AF_UNIX, stdsocket.SOCK_STREAM)
        srv.bind(path)
        srv.listen()
        c = psocket.socket(stdsocket.AF_UNIX, stdsocket.SOCK_STREAM)
        pyhost.spawn(c.connect, path)
        conn, _ = srv.accept()
        pyhost.run()
        conn.sendall(b"unix")
        assert c.recv(10) == b"unix"
        for s in (srv, c, conn):
            s.close()


def test_fromfd_socketpair_and_dup(backend):
    a, b = psocket.socketpair()
    c = psocket.fromfd(a.fileno(), a.family, a.type)
    d = a.dup()
    with a, b, c, d:
        assert isinstance(c, psocket.socket) and isinstance(d, psocket.socket)
        b.sendall(b"via dup")
        assert c.recv(3) == b"via"
        assert d.recv(10) == b" dup"


def test_sendfile(backend, tmp_path):
    path = tmp_path / "f"
    payload = os.urandom(600_000)
    path.write_bytes(payload)
    a, b = psocket.socketpair()
    with a, b, open(path, "rb") as f:
        got = bytearray()

        def reader():
            while len(got) < len(payload):
                got.extend(b.recv(65536))

        t = pyhost.spawn(reader)
        assert a.sendfile(f) == len(payload)
        t.join()
        assert bytes(got) == payload
        a.setblocking(False)
        f.seek(0)
        with pytest.raises(ValueError, match="non-blocking"):
            a.sendfile(f)


def test_connection_refused_like_stdlib(backend):
    s = stdsocket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ConnectionRefusedError):
        psocket.create_connection(("127.0.0.1", port))
    c = psocket.socket()
    with c:
        assert c.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED


def test_name_resolution_matches_stdlib(backend):
    ticks = []
    pyhost.spawn(lambda: ticks.append(1))
    assert psocket.getaddrinfo("localhost", 80, type=stdsocket.SOCK_STREAM) \
        == stdsocket.getaddrinfo("localhost", 80, type=stdsocket.SOCK_STREAM)
    assert psocket.gethostbyname("localhost") == \
        stdsocket.gethostbyname("localhost")
    assert psocket.gethostbyname("127.0.0.1") == "127.0.0.1"
    assert ticks == [1]  # the tasklet ran while we waited for the thread
    with pytest.raises(stdsocket.gaierror):
        psocket.getaddrinfo("name.invalid", 80)


def test_zero_length_and_huge_reads_like_stdlib(backend):
    a, b = psocket.socketpair()
    ra, rb = stdsocket.socketpair()
    with a, b, ra, rb:
        assert a.recv(0) == ra.recv(0) == b""
        assert a.recv_into(bytearray(0)) == ra.recv_into(bytearray(0)) == 0
        for call in (lambda s: s.recv(-1),
                     lambda s: s.recv_into(bytearray(2), 5),
                     lambda s: s.recv_into(bytearray(2), -1),
                     lambda s: s.recv(sys.maxsize),
                     lambda s: s.recv("x")):
            with pytest.raises(Exception) as ours:
                call(a)
            with pytest.raises(Exception) as theirs:
                call(ra)
            assert ours.type is theirs.type, (ours.value, theirs.value)
        b.sendall(b"ok")
        assert a.recv(1 << 24) == b"ok"  # a huge buffer is fine


def test_non_socket_fd_behaves_like_stdlib(backend, tmp_path):
    path = tmp_path / "plain"
    path.write_bytes(b"")
    with open(path, "rb") as f:
        with pytest.raises(OSError) as ours:
            psocket.socket(fileno=f.fileno())
        with pytest.raises(OSError) as theirs:
            stdsocket.socket(fileno=f.fileno())
        assert ours.value.errno == theirs.value.errno == errno.ENOTSOCK


def test_a_thread_uses_its_own_hub_for_sockets(backend):
    srv = psocket.create_server(("127.0.0.1", 0))
    result = []

    def client():
        with psocket.create_connection(srv.getsockname()) as c:
            result.append(c.recv(10))

    th = threading.Thread(target=client)
    th.start()
    conn, _ = srv.accept()
    conn.sendall(b"thread")
    th.join(5)
    conn.close()
    srv.close()
    assert result == [b"thread"]


_SECCOMP = textwrap.dedent(r"""
    # Install a seccomp filter that fails io_uring_setup with EPERM, as
    # Docker's default profile does, then use pyhost.
    import ctypes, struct, sys, warnings
    libc = ctypes.CDLL(None, use_errno=True)
    NR_IO_URING_SETUP = 425
    def stmt(code, k): return struct.pack("HBBI", code, 0, 0, k)
    def jump(code, k, jt, jf): return struct.pack("HBBI", code, jt, jf, k)
    prog = b"".join([
        stmt(0x20, 0),                                  # ld [nr]
        jump(0x15, NR_IO_URING_SETUP, 0, 1),            # jeq setup
        stmt(0x06, 0x00050000 | 1),                     # ret ERRNO(EPERM)
        stmt(0x06, 0x7fff0000),                         # ret ALLOW
    ])
    buf = ctypes.create_string_buffer(prog)
    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    fprog = SockFprog(len(prog) // 8, ctypes.addressof(buf))
    assert libc.prctl(38, 1, 0, 0, 0) == 0              # NO_NEW_PRIVS
    assert libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0  # SECCOMP
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import pyhost.socket as ps
        from pyhost import tasklets
        a, b = ps.socketpair()
        b.sendall(b"fallback")
        assert a.recv(20) == b"fallback"
        tasklets.set_backend("auto")   # a second hub: no second warning
        backend = tasklets.hub_backend()
    msgs = [str(w.message) for w in caught
            if issubclass(w.category, RuntimeWarning)]
    print(backend, len(msgs), msgs[0] if msgs else "")
""")


def test_failed_ring_setup_falls_back_to_epoll_with_one_warning():
    env = dict(os.environ)
    env.pop("PYHOST_HUB_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", _SECCOMP], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    backend, count, message = out.stdout.strip().split(" ", 2)
    assert backend == "epoll" and count == "1"
    assert "io_uring is unavailable" in message
    assert "Operation not permitted" in message


def test_recv_into_a_4gib_buffer_waits_for_data(backend):
    """recv_into a 4 GiB buffer waits for data like any other recv (a
    32-bit length, such as io_uring's SQE field, would wrap to 0 and the
    recv would complete at once with 0, a false EOF)."""
    import mmap
    try:
        big = mmap.mmap(-1, 4 << 30, flags=mmap.MAP_PRIVATE |
                        mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0))
    except (OSError, OverflowError) as exc:
        pytest.skip(f"cannot map 4 GiB of address space here: {exc}")
    a, b = psocket.socketpair()
    with big, a, b:
        def send_later():
            pyhost.sleep(0.02)
            b.sendall(b"hello")
        pyhost.spawn(send_later)
        assert a.recv_into(big) == 5
        assert big[:5] == b"hello"
        pyhost.run()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", None])
def test_getaddrinfo_returns_enums_like_the_stdlib(backend, host):
    """getaddrinfo's family and type are AddressFamily / SocketKind enum
    members, equal to the stdlib's answer."""
    got = psocket.getaddrinfo(host, 80, stdsocket.AF_INET,
                              stdsocket.SOCK_STREAM)
    want = stdsocket.getaddrinfo(host, 80, stdsocket.AF_INET,
                                 stdsocket.SOCK_STREAM)
    assert got == want
    for (family, kind, *_), (wfamily, wkind, *_) in zip(got, want):
        assert type(family) is type(wfamily) is stdsocket.AddressFamily
        assert type(kind) is type(wkind) is stdsocket.SocketKind
        assert family.name == "AF_INET" and kind.name == "SOCK_STREAM"


@pytest.mark.parametrize("name", ["getnameinfo", "gethostbyname",
                                  "gethostbyname_ex", "gethostbyaddr",
                                  "getaddrinfo"])
def test_failing_resolver_call_keeps_no_reference_to_its_argument(
        backend, name):
    """A resolver call that fails keeps no reference to its argument while
    its exception (and traceback) lives, as CPython's
    testRefCountGetNameInfo checks."""
    func = getattr(psocket, name)
    # A fresh, uninterned string; getnameinfo fails with TypeError (it
    # wants a tuple), the others with a resolver error.
    arg = "pyhost-refcount-" + name + ".invalid"
    before = sys.getrefcount(arg)
    try:
        if name == "getnameinfo":
            func(arg, 0)
        elif name == "getaddrinfo":
            func(arg, 80)
        else:
            func(arg)
    except (TypeError, OSError) as exc:
        # While the exception (and its traceback) lives.
        assert sys.getrefcount(arg) == before, exc
    else:
        pytest.fail("the call should have failed")
