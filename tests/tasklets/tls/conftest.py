# SPDX-License-Identifier: MIT
"""Fixtures for the pyhost.ssl and pyhost.monkey tests: throw-away TLS
certificates made with the openssl tool.  The hub backend fixture is
tests/tasklets/conftest.py's."""
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

