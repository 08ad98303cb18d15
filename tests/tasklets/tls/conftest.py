# SPDX-License-Identifier: MIT
"""Fixtures for the pyhost.ssl and pyhost.monkey tests: throw-away TLS
certificates made with the openssl tool, and the hub backend to run on."""
import shutil
import subprocess

import pytest


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1 and its key.

    Returns a dict with 'cert' (also the CA to trust) and 'key' paths."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command-line tool is needed to make test "
                    "certificates")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return {"cert": str(cert), "key": str(key)}


@pytest.fixture(params=["uring", "epoll"])
def backend(request):
    """Run the test on each hub backend of this thread; io_uring is skipped
    where the kernel or a seccomp filter refuses it."""
    from pyhost import tasklets
    try:
        tasklets.set_backend(request.param)
    except OSError as e:
        pytest.skip(f"io_uring cannot be set up here: {e}")
    yield request.param
    # Let the test's remaining tasklets (servers seeing EOF) finish.
    assert tasklets.run(timeout=10), "tasklets still alive after the test"
    tasklets.set_backend("auto")
