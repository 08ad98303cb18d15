# SPDX-License-Identifier: MIT
"""TLS for tasklets: the stdlib ``ssl`` API over pyhost sockets.

The stdlib ``ssl.SSLSocket`` lets OpenSSL read and write the file descriptor
itself and waits with its own ``poll()`` inside C, which would block the
whole hub.  Here OpenSSL only ever sees memory: each :class:`SSLSocket` drives
an ``ssl.SSLObject`` between two ``ssl.MemoryBIO`` buffers, and the bytes
move between those buffers and the network through the cooperative
:class:`pyhost.socket.socket` methods, so a TLS read parks the tasklet like a
plain recv does, with the same timeouts.

Use it directly::

    ctx = pyhost.ssl.create_default_context(cafile=...)
    tls = ctx.wrap_socket(pyhost.socket.create_connection(addr),
                          server_hostname="example.org")

or let :func:`pyhost.monkey.patch_ssl` route every ``SSLContext.wrap_socket``
call (http.client, urllib, smtplib, ...) here.  Everything else of the stdlib
module (constants, exceptions, ``SSLObject``, ``MemoryBIO``, ``Purpose``) is
re-exported unchanged.
"""
import errno as _errno
import socket as _stdsocket
import ssl as _ssl
import types as _types

from pyhost.tasklets import socket as _socket

# Re-export the stdlib ssl API: its public names, without the modules and
# the socket-module names ssl.py itself imports.
__all__ = [
    name for name in dir(_ssl)
    if not name.startswith("_")
    and not isinstance(getattr(_ssl, name), _types.ModuleType)
    and getattr(_stdsocket, name, None) is not getattr(_ssl, name)
    and name != "namedtuple"
]
globals().update((name, getattr(_ssl, name)) for name in __all__)

# How much one raw recv asks for: a full TLS record plus its header.
_RECV_CHUNK = 17 * 1024
# How much one raw send takes out of the pending ciphertext.
_SEND_CHUNK = 256 * 1024
# sendall() encrypts in pieces of this size, so a huge buffer is not copied
# into one huge ciphertext first.
_WRITE_CHUNK = 64 * 1024

_base = _socket.socket


class SSLSocket(_base):
    """A pyhost socket carrying TLS; made by :meth:`SSLContext.wrap_socket`.

    The API and the errors are those of ``ssl.SSLSocket``.  Timeouts apply to
    each network wait, as for the plain socket; in non-blocking mode
    (timeout 0) the calls raise ``SSLWantReadError``/``SSLWantWriteError``.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError(
            f"{self.__class__.__name__} does not have a public constructor. "
            f"Instances are returned by SSLContext.wrap_socket().")

    @classmethod
    def _create(cls, sock, server_side=False, do_handshake_on_connect=True,
                suppress_ragged_eofs=True, server_hostname=None,
                context=None, session=None):
        """Take over SOCK's file descriptor (SOCK is detached, as in the
        stdlib) and return a new SSLSocket; shake hands if SOCK is connected
        and DO_HANDSHAKE_ON_CONNECT is true."""
        if sock.getsockopt(_ssl.SOL_SOCKET, _ssl.SO_TYPE) != \
                _ssl.SOCK_STREAM:
            raise NotImplementedError("only stream sockets are supported")
        if context is None:
            raise TypeError("SSLSocket._create() needs a context")
        if server_side:
            if server_hostname:
                raise ValueError("server_hostname can only be specified "
                                 "in client mode")
            if session is not None:
                raise ValueError("session can only be specified in "
                                 "client mode")
        if context.check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")

        kwargs = dict(family=sock.family, type=sock.type, proto=sock.proto,
                      fileno=sock.fileno())
        self = cls.__new__(cls, **kwargs)
        _base.__init__(self, **kwargs)
        timeout = sock.gettimeout()
        sock.detach()

        self._context = context
        self._session = session
        self._sslobj = None
        self._incoming = None
        self._outgoing = None
        # Ciphertext produced but not yet on the wire, and whether a tasklet
        # is sending it (only one may, so TLS records never interleave).
        self._unsent = bytearray()
        self._flushing = False
        self.server_side = server_side
        self.server_hostname = context._encode_hostname(server_hostname)
        self.do_handshake_on_connect = do_handshake_on_connect
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self.settimeout(timeout)
        try:
            self.getpeername()
        except OSError as e:
            if e.errno != _errno.ENOTCONN:
                self.close()
                raise
            self._connected = False
        else:
            self._connected = True
        if self._connected:
            try:
                self._make_sslobj()
                if do_handshake_on_connect:
                    if self.gettimeout() == 0.0:
                        raise ValueError("do_handshake_on_connect should not"
                                         " be specified for non-blocking "
                                         "sockets")
                    self.do_handshake()
            except (OSError, ValueError):
                self.close()
                raise
        return self

    def _make_sslobj(self):
        self._incoming = _ssl.MemoryBIO()
        self._outgoing = _ssl.MemoryBIO()
        self._sslobj = self._context.wrap_bio(
            self._incoming, self._outgoing, server_side=self.server_side,
            server_hostname=self.server_hostname, session=self._session)

    # -- moving ciphertext between the BIOs and the network ---------------

    def _fill(self):
        """Read ciphertext from the network into the incoming BIO (parks the
        tasklet; raises TimeoutError, or SSLWantReadError when
        non-blocking)."""
        try:
            data = _base.recv(self, _RECV_CHUNK)
        except BlockingIOError:
            raise _ssl.SSLWantReadError(
                _ssl.SSL_ERROR_WANT_READ,
                "The operation did not complete (read)") from None
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    def _flush(self):
        """Send the ciphertext OpenSSL produced.  A second tasklet arriving
        while one sends only queues its records behind it."""
        out = self._outgoing.read()
        if out:
            self._unsent += out
        if self._flushing:
            return
        self._flushing = True
        try:
            while self._unsent:
                chunk = bytes(self._unsent[:_SEND_CHUNK])
                try:
                    n = _base.send(self, chunk)
                except BlockingIOError:
                    raise _ssl.SSLWantWriteError(
                        _ssl.SSL_ERROR_WANT_WRITE,
                        "The operation did not complete (write)") from None
                del self._unsent[:n]
                out = self._outgoing.read()
                if out:
                    self._unsent += out
        finally:
            self._flushing = False

    def _tls(self, func, *args):
        """Call an SSLObject method until it completes, feeding it from and
        draining it to the network.  Returns what FUNC returns."""
        while True:
            try:
                result = func(*args)
            except _ssl.SSLWantReadError:
                self._flush()
                self._fill()
                continue
            except _ssl.SSLWantWriteError:
                self._flush()
                continue
            except _ssl.SSLError:
                # Let the alert that explains the failure reach the peer.
                try:
                    self._flush()
                except OSError:
                    pass
                raise
            self._flush()
            return result

    # -- the ssl.SSLSocket API ------------------------------------------

    @property
    def context(self):
        return self._context

    @context.setter
    def context(self, ctx):
        self._context = ctx
        if self._sslobj is not None:
            self._sslobj.context = ctx

    @property
    def session(self):
        if self._sslobj is not None:
            return self._sslobj.session
        return None

    @session.setter
    def session(self, session):
        self._session = session
        if self._sslobj is not None:
            self._sslobj.session = session

    @property
    def session_reused(self):
        if self._sslobj is not None:
            return self._sslobj.session_reused
        return None

    def dup(self):
        raise NotImplementedError(
            f"Can't dup() {self.__class__.__name__} instances")

    def _check_connected(self):
        if not self._connected:
            # Raises ENOTCONN when the socket really is not connected.
            self.getpeername()

    def _require_sslobj(self, what):
        if self._sslobj is None:
            raise ValueError(f"{what} on closed or unwrapped SSL socket.")

    def do_handshake(self, block=False):
        self._check_connected()
        if self._sslobj is None:
            self._make_sslobj()
        timeout = self.gettimeout()
        try:
            if timeout == 0.0 and block:
                self.settimeout(None)
            self._tls(self._sslobj.do_handshake)
        finally:
            self.settimeout(timeout)

    def read(self, len=1024, buffer=None):
        """Read up to LEN bytes (into BUFFER if given); b'' or 0 at EOF."""
        self._require_sslobj("Read")
        try:
            if buffer is not None:
                return self._tls(self._sslobj.read, len, buffer)
            return self._tls(self._sslobj.read, len)
        except _ssl.SSLError as e:
            if e.args[0] == _ssl.SSL_ERROR_EOF and self.suppress_ragged_eofs:
                return 0 if buffer is not None else b""
            raise

    def write(self, data):
        """Encrypt and send DATA; returns the number of bytes taken."""
        self._require_sslobj("Write")
        return self._tls(self._sslobj.write, data)

    def _no_flags(self, name, flags):
        if flags != 0:
            raise ValueError(f"non-zero flags not allowed in calls to "
                             f"{name}() on {self.__class__}")

    def recv(self, buflen=1024, flags=0):
        if self._sslobj is None:
            return _base.recv(self, buflen, flags)
        self._no_flags("recv", flags)
        return self.read(buflen)

    def recv_into(self, buffer, nbytes=None, flags=0):
        if nbytes is None:
            with memoryview(buffer) as view:
                nbytes = view.nbytes or 1024
        if self._sslobj is None:
            return _base.recv_into(self, buffer, nbytes, flags)
        self._no_flags("recv_into", flags)
        return self.read(nbytes, buffer)

    def recvfrom(self, buflen=1024, flags=0):
        if self._sslobj is not None:
            raise ValueError(
                f"recvfrom not allowed on instances of {self.__class__}")
        return _base.recvfrom(self, buflen, flags)

    def recvfrom_into(self, buffer, nbytes=None, flags=0):
        if self._sslobj is not None:
            raise ValueError(
                f"recvfrom_into not allowed on instances of {self.__class__}")
        return _base.recvfrom_into(self, buffer, nbytes or 0, flags)

    def recvmsg(self, *args, **kwargs):
        raise NotImplementedError(
            f"recvmsg not allowed on instances of {self.__class__}")

    def recvmsg_into(self, *args, **kwargs):
        raise NotImplementedError(
            f"recvmsg_into not allowed on instances of {self.__class__}")

    def send(self, data, flags=0):
        if self._sslobj is None:
            return _base.send(self, data, flags)
        self._no_flags("send", flags)
        return self.write(data)

    def sendall(self, data, flags=0):
        if self._sslobj is None:
            return _base.sendall(self, data, flags)
        self._no_flags("sendall", flags)
        with memoryview(data) as view, view.cast("B") as octets:
            count = 0
            while count < len(octets):
                count += self.write(octets[count:count + _WRITE_CHUNK])

    def sendto(self, data, flags_or_addr, addr=None):
        if self._sslobj is not None:
            raise ValueError(
                f"sendto not allowed on instances of {self.__class__}")
        if addr is None:
            return _base.sendto(self, data, flags_or_addr)
        return _base.sendto(self, data, flags_or_addr, addr)

    def sendmsg(self, *args, **kwargs):
        # Programs must not send clear text through a TLS socket.
        raise NotImplementedError(
            f"sendmsg not allowed on instances of {self.__class__}")

    def sendfile(self, file, offset=0, count=None):
        if self._sslobj is None:
            return _base.sendfile(self, file, offset, count)
        # os.sendfile() would bypass the encryption.
        return self._sendfile_use_send(file, offset, count)

    def pending(self):
        return self._sslobj.pending() if self._sslobj is not None else 0

    def getpeercert(self, binary_form=False):
        self._check_connected()
        self._require_sslobj("getpeercert")
        return self._sslobj.getpeercert(binary_form)

    def selected_alpn_protocol(self):
        if self._sslobj is None:
            return None
        return self._sslobj.selected_alpn_protocol()

    def selected_npn_protocol(self):
        return None

    def cipher(self):
        return self._sslobj.cipher() if self._sslobj is not None else None

    def shared_ciphers(self):
        if self._sslobj is None:
            return None
        return self._sslobj.shared_ciphers()

    def compression(self):
        if self._sslobj is None:
            return None
        return self._sslobj.compression()

    def version(self):
        return self._sslobj.version() if self._sslobj is not None else None

    def get_channel_binding(self, cb_type="tls-unique"):
        if self._sslobj is None:
            return None
        return self._sslobj.get_channel_binding(cb_type)

    if hasattr(_ssl.SSLObject, "get_verified_chain"):  # Python 3.13+
        def get_verified_chain(self):
            if self._sslobj is None:
                return []
            return self._sslobj.get_verified_chain()

        def get_unverified_chain(self):
            if self._sslobj is None:
                return []
            return self._sslobj.get_unverified_chain()

    def verify_client_post_handshake(self):
        if self._sslobj is None:
            raise ValueError("No SSL wrapper around " + str(self))
        return self._tls(self._sslobj.verify_client_post_handshake)

    def shutdown(self, how):
        self._sslobj = None
        _base.shutdown(self, how)

    def unwrap(self):
        """Send and await close_notify; return the plain pyhost socket,
        which takes over the file descriptor."""
        if self._sslobj is None:
            raise ValueError("No SSL wrapper around " + str(self))
        self._tls(self._sslobj.unwrap)
        self._sslobj = None
        family, type_, proto = self.family, self.type, self.proto
        timeout = self.gettimeout()
        plain = _base(family, type_, proto, fileno=self.detach())
        plain.settimeout(timeout)
        return plain

    def _real_close(self):
        self._sslobj = None
        _base._real_close(self)

    def _real_connect(self, addr, connect_ex):
        if self.server_side:
            raise ValueError("can't connect in server-side mode")
        if self._connected or self._sslobj is not None:
            raise ValueError("attempt to connect already-connected SSLSocket!")
        if connect_ex:
            rc = _base.connect_ex(self, addr)
            if rc:
                return rc
        else:
            _base.connect(self, addr)
        self._connected = True
        self._make_sslobj()
        if self.do_handshake_on_connect:
            self.do_handshake()
        return 0 if connect_ex else None

    def connect(self, addr):
        self._real_connect(addr, False)

    def connect_ex(self, addr):
        return self._real_connect(addr, True)

    def accept(self):
        """Accept a connection and wrap it in TLS (server side)."""
        conn, addr = _base.accept(self)
        try:
            conn = type(self)._create(
                conn, server_side=True,
                do_handshake_on_connect=self.do_handshake_on_connect,
                suppress_ragged_eofs=self.suppress_ragged_eofs,
                context=self._context)
        except BaseException:
            conn.close()
            raise
        return conn, addr


class SSLContext(_ssl.SSLContext):
    """``ssl.SSLContext`` whose ``wrap_socket`` returns pyhost SSLSockets."""

    sslsocket_class = SSLSocket


def create_default_context(purpose=_ssl.Purpose.SERVER_AUTH, *, cafile=None,
                           capath=None, cadata=None):
    """``ssl.create_default_context`` returning a pyhost SSLContext."""
    ctx = _ssl.create_default_context(purpose, cafile=cafile, capath=capath,
                                      cadata=cadata)
    ctx.__class__ = SSLContext
    return ctx


def wrap_socket(sock, context=None, *, server_side=False,
                server_hostname=None, do_handshake_on_connect=True,
                suppress_ragged_eofs=True, session=None):
    """Wrap SOCK (any connected or unconnected stream socket) in TLS with
    CONTEXT (an ``ssl.SSLContext`` of any class; a default client context
    when None) and return a pyhost SSLSocket."""
    if context is None:
        context = create_default_context(
            _ssl.Purpose.CLIENT_AUTH if server_side
            else _ssl.Purpose.SERVER_AUTH)
    return SSLSocket._create(
        sock, server_side=server_side,
        do_handshake_on_connect=do_handshake_on_connect,
        suppress_ragged_eofs=suppress_ragged_eofs,
        server_hostname=server_hostname, context=context, session=session)
