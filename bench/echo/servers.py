# SPDX-License-Identifier: MIT
"""The Python echo servers the benchmark compares, one per ``--kind``.

Every server does the same work: accept on 127.0.0.1, set TCP_NODELAY,
read up to 64 KiB, write all of it back, until the peer closes.  Each prints
``port=N`` on stdout once it listens and serves until it is killed.  The
blocking-style servers (pyhost, gevent, threads) are written the way a user
of each would write them: one handler per connection calling recv/sendall.

    python servers.py --kind pyhost-uring
"""
import argparse
import os
import socket
import sys

BUFSIZE = 65536


def _listener(sock_module):
    lsock = sock_module.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1024)
    return lsock


def _announce(port):
    print(f"port={port}", flush=True)


def _handle(conn):
    """The blocking echo loop shared by pyhost, gevent and threads."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    recv, sendall = conn.recv, conn.sendall
    try:
        while True:
            data = recv(BUFSIZE)
            if not data:
                break
            sendall(data)
    except OSError:
        pass
    finally:
        conn.close()


def serve_pyhost(backend):
    # The backend is chosen before the first hub is made (docs/hub.md).
    os.environ["PYHOST_HUB_BACKEND"] = backend
    import pyhost
    import pyhost.socket
    import pyhost.tasklets

    if pyhost.tasklets.hub_backend() != backend:
        sys.exit(f"servers.py: the hub runs {pyhost.tasklets.hub_backend()}"
                 f", not {backend}")
    lsock = _listener(pyhost.socket)
    _announce(lsock.getsockname()[1])

    def acceptor():
        while True:
            conn, _ = lsock.accept()
            pyhost.spawn(_handle, conn)

    pyhost.spawn(acceptor)
    pyhost.run()


def serve_gevent():
    import gevent
    import gevent.socket

    lsock = _listener(gevent.socket)
    _announce(lsock.getsockname()[1])
    while True:
        conn, _ = lsock.accept()
        gevent.spawn(_handle, conn)


def serve_threads():
    import threading

    lsock = _listener(socket)
    _announce(lsock.getsockname()[1])
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=_handle, args=(conn,), daemon=True).start()


def serve_asyncio(style, use_uvloop):
    import asyncio

    if use_uvloop:
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    async def on_stream(reader, writer):
        writer.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = await reader.read(BUFSIZE)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    class EchoProtocol(asyncio.Protocol):
        def connection_made(self, transport):
            transport.get_extra_info("socket").setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)

    lsock = _listener(socket)
    if style == "streams":
        server = loop.run_until_complete(
            asyncio.start_server(on_stream, sock=lsock, limit=BUFSIZE))
    else:
        server = loop.run_until_complete(
            loop.create_server(EchoProtocol, sock=lsock))
    _announce(lsock.getsockname()[1])
    try:
        loop.run_forever()
    finally:
        server.close()


KINDS = {
    "pyhost-uring": lambda: serve_pyhost("uring"),
    "pyhost-epoll": lambda: serve_pyhost("epoll"),
    "gevent": serve_gevent,
    "threads": serve_threads,
    "asyncio-streams": lambda: serve_asyncio("streams", False),
    "asyncio-proto": lambda: serve_asyncio("proto", False),
    "uvloop-streams": lambda: serve_asyncio("streams", True),
    "uvloop-proto": lambda: serve_asyncio("proto", True),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", required=True, choices=sorted(KINDS))
    args = parser.parse_args(argv)
    try:
        KINDS[args.kind]()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
