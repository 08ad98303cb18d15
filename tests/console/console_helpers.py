# SPDX-License-Identifier: MIT
"""Helpers for the console tests: an HTTP client that talks to the console
the way a browser or curl would, and the environment for client processes.
(A module of its own, not conftest.py: other parts' test folders have a
conftest module too.  The sanitizer flag and the slow-down helper are
testenv's.)"""
import http.client
import os
import re
import socket
import urllib.parse

from testenv import scaled

# How long a Python page may take before the console answers 503, in the
# tests that check what a page shows: long enough for a busy machine (CPU
# hogs, sanitizers) to finish a page over a big heap.  How fast pages are is
# bench/console.py's business; the tests of the 503 itself start a console
# with the default 1 s deadline.
PATIENT_DEADLINE = min(60.0, scaled(20.0))
HERE = os.path.dirname(os.path.abspath(__file__))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        import json
        return json.loads(self.body)


class Client:
    """A minimal client: each request on a fresh connection, the token sent
    as the cookie a browser would have after its first visit."""

    def __init__(self, url, timeout=None):
        p = urllib.parse.urlparse(url)
        # A hang guard: how long to wait for an answer before failing.
        self.timeout = scaled(60) if timeout is None else timeout
        self.url = url
        self.host, self.port = p.hostname, p.port
        self.token = urllib.parse.parse_qs(p.query)["token"][0]

    def request(self, method, path, *, token=True, headers=None, body=None):
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)
        h = {}
        if token:
            h["Cookie"] = f"pyhost_console={self.token}"
        h.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def json(self, path):
        r = self.get(path)
        assert r.status == 200, (path, r.status, r.text)
        return r.json()

    def csrf(self):
        """The CSRF token, read from a page's form as a browser sees it."""
        page = self.get("/gc").text
        return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)

    def post(self, path, csrf, **kw):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers.update(kw.pop("headers", {}))
        body = "" if csrf is None else f"csrf={csrf}"
        return self.request("POST", path, body=body, headers=headers, **kw)

    def raw(self, data, timeout=5):
        """Send raw bytes; return what the server answers before closing."""
        with socket.create_connection((self.host, self.port),
                                      timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
                    if b"\r\n\r\n" in b"".join(chunks) and \
                            b"Connection: close" not in b"".join(chunks):
                        # Keep-alive answer: headers arrived, body follows.
                        if b"Content-Length" in b"".join(chunks):
                            head, _, rest = b"".join(chunks).partition(
                                b"\r\n\r\n")
                            n = int(head.split(b"Content-Length: ")[1]
                                    .split(b"\r\n")[0])
                            if len(rest) >= n:
                                break
            except socket.timeout:
                pass
            return b"".join(chunks)


def client_env():
    """The environment for client processes (Python clients, node,
    chromium): ours minus the sanitizer runtimes the ASan run preloads, so
    that they start and run at normal speed."""
    return {k: v for k, v in os.environ.items()
            if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
