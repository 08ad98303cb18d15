# SPDX-License-Identifier: MIT
"""The stdlib socket API for tasklets.

``pyhost.socket.socket`` subclasses ``socket.socket`` (``isinstance`` checks
in stdlib code hold) and blocks only the calling tasklet: its fd is always
non-blocking in the kernel, and the Python-visible timeout (settimeout,
gettimeout, setblocking, setdefaulttimeout) keeps the stdlib's meaning.
recv, recv_into, send and sendall run in the hub's C code (tried at once,
then an io_uring operation or an epoll wait); the other calls try the
stdlib method and wait for readiness when it would block.  Bytes a receive
got after its caller stopped waiting (an exception thrown into it) stay in
the hub's per-fd stash, and every receive method returns them first.

Everything else of the stdlib module is re-exported unchanged, except the
name resolution functions, which run on a worker thread.
"""

import _socket
import io as _io
import os as _os
import socket as _stdsocket
from socket import *  # noqa: F401,F403  (constants, exceptions, helpers)
from socket import (  # the names used below
    AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_ERROR, error, timeout,
    getdefaulttimeout, has_dualstack_ipv6, _GLOBAL_DEFAULT_TIMEOUT,
)

from . import _deadline, _hub, _resolver
from ._resolver import (  # noqa: F401
    getaddrinfo, gethostbyname, gethostbyname_ex, gethostbyaddr, getnameinfo,
)

__all__ = list(_stdsocket.__all__) + ["wait_readable", "wait_writable"]

# The stdlib originals, captured at import so that a monkey patch that
# installs this module's names into `socket` cannot make them call
# themselves: import pyhost.socket before patching.
_std_socket_class = _stdsocket.socket
_std_getfqdn = _stdsocket.getfqdn
_GiveupOnSendfile = _stdsocket._GiveupOnSendfile
_MSG_PEEK = _stdsocket.MSG_PEEK
_MSG_DONTWAIT = _stdsocket.MSG_DONTWAIT

_get_hub = _hub.get_hub
_POLLIN = _hub.POLLIN
_POLLOUT = _hub.POLLOUT
_ss = _socket.socket


def _flags_at(args, index):
    """The MSG_* flags at args[index] (0 when absent or not an int: the
    stdlib method reports bad arguments itself)."""
    if len(args) > index and isinstance(args[index], int):
        return args[index]
    return 0


class socket(_std_socket_class):
    """A socket whose blocking calls park only the calling tasklet."""

    __slots__ = ("_timeout",)

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        super().__init__(family, type, proto, fileno)
        # The stdlib decided the timeout (default timeout, SOCK_NONBLOCK);
        # keep it for Python and make the fd itself non-blocking.
        self._timeout = _ss.gettimeout(self)
        _ss.settimeout(self, 0.0)

    # -- timeouts -----------------------------------------------------------

    @property
    def timeout(self):
        return self._timeout

    def settimeout(self, value):
        _ss.settimeout(self, value)  # validates exactly like the stdlib
        self._timeout = _ss.gettimeout(self)
        _ss.settimeout(self, 0.0)

    def gettimeout(self):
        return self._timeout

    def setblocking(self, flag):
        self.settimeout(None if flag else 0.0)

    def getblocking(self):
        return self._timeout != 0.0

    # -- waiting ------------------------------------------------------------

    def _wait(self, events, deadline):
        # The hub raises TimeoutError("timed out") once deadline passes.
        _get_hub().wait_fd(self.fileno(), events, _deadline.left(deadline))

    def _io(self, events, flags, method, *args, **kwargs):
        """Call the stdlib method, parking until ready while it would
        block (the timeout covers the whole call).  flags are the call's
        MSG_* flags: with MSG_DONTWAIT it never waits, like the stdlib."""
        deadline = None
        while True:
            try:
                return method(self, *args, **kwargs)
            except BlockingIOError:
                if self._timeout == 0.0 or flags & _MSG_DONTWAIT:
                    raise
            if deadline is None:
                deadline = _deadline.deadline(self._timeout)
            self._wait(events, deadline)

    def _stashed(self):
        """Bytes the hub keeps for this socket's next receive."""
        return _get_hub().stashed(_ss.fileno(self))

    # -- the hot path: in the hub's C code (which returns stashed bytes
    # first) ------------------------------------------------------------------

    def recv(self, bufsize, flags=0):
        return _get_hub().recv(self.fileno(), bufsize, flags, self._timeout)

    def recv_into(self, buffer, nbytes=0, flags=0):
        return _get_hub().recv_into(self.fileno(), buffer, nbytes, flags,
                                    self._timeout)

    def send(self, data, flags=0):
        return _get_hub().send(self.fileno(), data, flags, self._timeout)

    def sendall(self, data, flags=0):
        _get_hub().sendall(self.fileno(), data, flags, self._timeout)

    # -- the rest: stdlib call, readiness wait ------------------------------

    def recvfrom(self, bufsize, flags=0):
        if self._stashed() and bufsize > 0:
            return self.recv(bufsize, flags), self.getpeername()
        return self._io(_POLLIN, flags, _ss.recvfrom, bufsize, flags)

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        if self._stashed() and nbytes >= 0:
            return self.recv_into(buffer, nbytes, flags), self.getpeername()
        return self._io(_POLLIN, flags, _ss.recvfrom_into, buffer, nbytes,
                        flags)

    # These take their arguments as the stdlib does (positional, its own
    # errors for bad counts); the MSG_* flags are the third one, or
    # sendto's second of three.

    def recvmsg(self, *args):
        if args and self._stashed() and isinstance(args[0], int):
            # Stashed bytes came from a stream read: no ancillary data, no
            # flags, no address (as recvmsg says on a connected stream).
            return self.recv(args[0], _flags_at(args, 2)), [], 0, None
        return self._io(_POLLIN, _flags_at(args, 2), _ss.recvmsg, *args)

    def recvmsg_into(self, *args):
        if args and self._stashed():
            views = [memoryview(b).cast("B") for b in args[0]]
            data = self.recv(sum(v.nbytes for v in views),
                             _flags_at(args, 2))
            pos = 0
            for view in views:
                chunk = data[pos:pos + view.nbytes]
                view[:len(chunk)] = chunk
                pos += len(chunk)
                view.release()
            return len(data), [], 0, None
        return self._io(_POLLIN, _flags_at(args, 2), _ss.recvmsg_into, *args)

    def sendto(self, *args):
        flags = _flags_at(args, 1) if len(args) == 3 else 0
        return self._io(_POLLOUT, flags, _ss.sendto, *args)

    def sendmsg(self, *args):
        return self._io(_POLLOUT, _flags_at(args, 2), _ss.sendmsg, *args)

    if hasattr(_ss, "sendmsg_afalg"):
        def sendmsg_afalg(self, *args, **kwargs):
            flags = kwargs.get("flags", 0)
            return self._io(_POLLOUT, flags, _ss.sendmsg_afalg, *args,
                            **kwargs)

    def _accept(self):
        return self._io(_POLLIN, 0, _ss._accept)

    def accept(self):
        fd, addr = self._accept()
        sock = socket(self.family, self.type, self.proto, fileno=fd)
        if getdefaulttimeout() is None and self.gettimeout():
            sock.setblocking(True)
        return sock, addr

    def _connect(self, address, raising):
        try:
            _ss.connect(self, address)
            return 0
        except BlockingIOError as exc:
            if self._timeout == 0.0:
                if raising:
                    raise
                return exc.errno
        except OSError as exc:
            if raising:
                raise
            return exc.errno
        self._wait(_POLLOUT, _deadline.deadline(self._timeout))
        err = self.getsockopt(SOL_SOCKET, SO_ERROR)
        if err and raising:
            raise OSError(err, _os.strerror(err))
        return err

    def connect(self, address):
        self._connect(address, True)

    def connect_ex(self, address):
        return self._connect(address, False)

    # -- close: end the fd's operations first -------------------------------

    def _real_close(self, _ss=_ss):
        fd = _ss.fileno(self)
        if fd >= 0:
            _get_hub().close_fd(fd)
        _ss.close(self)

    def detach(self):
        fd = _ss.fileno(self)
        if fd >= 0:
            _get_hub().close_fd(fd)
        return super().detach()

    # -- sendfile -----------------------------------------------------------

    def _sendfile_use_sendfile(self, file, offset=0, count=None):
        self._check_sendfile_params(file, offset, count)
        sockno = self.fileno()
        try:
            fileno = file.fileno()
        except (AttributeError, _io.UnsupportedOperation) as err:
            raise _GiveupOnSendfile(err)
        try:
            fsize = _os.fstat(fileno).st_size
        except OSError as err:
            raise _GiveupOnSendfile(err)
        if not fsize:
            return 0
        if self._timeout == 0.0:
            raise ValueError("non-blocking sockets are not supported")
        blocksize = min(count or fsize, 2 ** 30)
        total_sent = 0
        try:
            while True:
                if count:
                    blocksize = min(count - total_sent, blocksize)
                    if blocksize <= 0:
                        break
                try:
                    sent = _os.sendfile(sockno, fileno, offset, blocksize)
                except BlockingIOError:
                    self._wait(_POLLOUT, _deadline.deadline(self._timeout))
                    continue
                except OSError as err:
                    if total_sent == 0:
                        raise _GiveupOnSendfile(err)
                    raise err from None
                if sent == 0:
                    break
                offset += sent
                total_sent += sent
            return total_sent
        finally:
            if total_sent > 0 and hasattr(file, "seek"):
                file.seek(offset)


SocketType = _stdsocket.SocketType


def wait_readable(fd, timeout=None):
    """Park until fd (an int or an object with fileno()) is readable;
    return the poll revents.  TimeoutError('timed out') after timeout."""
    if not isinstance(fd, int):
        fd = fd.fileno()
    return _get_hub().wait_fd(fd, _POLLIN, timeout)


def wait_writable(fd, timeout=None):
    """Park until fd is writable; return the poll revents."""
    if not isinstance(fd, int):
        fd = fd.fileno()
    return _get_hub().wait_fd(fd, _POLLOUT, timeout)


def fromfd(fd, family, type, proto=0):
    """A pyhost socket on a duplicate of fd."""
    nfd = _os.dup(fd)
    return socket(family, type, proto, nfd)


def socketpair(family=None, type=SOCK_STREAM, proto=0):
    """A pair of connected pyhost sockets (AF_UNIX by default)."""
    if family is None:
        family = _socket.AF_UNIX
    a, b = _socket.socketpair(family, type, proto)
    a = socket(family, type, proto, a.detach())
    b = socket(family, type, proto, b.detach())
    return a, b


def getfqdn(name=""):
    """socket.getfqdn on a worker thread."""
    return _resolver.call_in_thread(_std_getfqdn, name)


def create_connection(address, timeout=_GLOBAL_DEFAULT_TIMEOUT,
                      source_address=None, *, all_errors=False):
    """Connect to (host, port), trying each address getaddrinfo gives."""
    host, port = address
    errors = []
    for af, socktype, proto, _canon, sa in getaddrinfo(host, port, 0,
                                                       SOCK_STREAM):
        sock = None
        try:
            sock = socket(af, socktype, proto)
            if timeout is not _GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sa)
            errors.clear()
            return sock
        except OSError as exc:
            if not all_errors:
                errors.clear()
            errors.append(exc)
            if sock is not None:
                sock.close()
    if not errors:
        raise error("getaddrinfo returns an empty list")
    try:
        if not all_errors:
            raise errors[0]
        raise ExceptionGroup("create_connection failed", errors)
    finally:
        errors = None


def create_server(address, *, family=AF_INET, backlog=None, reuse_port=False,
                  dualstack_ipv6=False):
    """A listening pyhost TCP socket bound to address."""
    if reuse_port and not hasattr(_socket, "SO_REUSEPORT"):
        raise ValueError("SO_REUSEPORT not supported on this platform")
    if dualstack_ipv6:
        if not has_dualstack_ipv6():
            raise ValueError("dualstack_ipv6 not supported on this platform")
        if family != AF_INET6:
            raise ValueError("dualstack_ipv6 requires AF_INET6 family")
    sock = socket(family, SOCK_STREAM)
    try:
        try:
            sock.setsockopt(SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        except error:
            pass
        if reuse_port:
            sock.setsockopt(SOL_SOCKET, _socket.SO_REUSEPORT, 1)
        if family == AF_INET6 and _stdsocket.has_ipv6:
            sock.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY,
                            0 if dualstack_ipv6 else 1)
        try:
            sock.bind(address)
        except error as err:
            raise error(err.errno, f"{err.strerror} (while attempting to "
                                   f"bind on address {address!r})") from None
        if backlog is None:
            sock.listen()
        else:
            sock.listen(backlog)
        return sock
    except error:
        sock.close()
        raise
