"""`tutela serve` with a certificate and its key serves TLS only, and says so with HSTS (§20)."""

import http.client
import socket
import ssl
import subprocess
import sys
import time

import pytest

from tutela.crypto.signing import create_test_pair

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def self_signed(tmp_path):
    cert_file, key_file = tmp_path / "tls.pem", tmp_path / "tls.key"
    create_test_pair(key_file=key_file, certificate_file=cert_file, domain="localhost")
    return cert_file, key_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_a_certificate_answers_over_tls_only_with_hsts(env, tmp_path):
    cert_file, key_file = self_signed(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "serve", "--port", str(port),
         "--ssl-certfile", str(cert_file), "--ssl-keyfile", str(key_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert_file))  # that certificate only
    context.check_hostname = False  # it names localhost; the server listens on 127.0.0.1
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                secure = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
                secure.request("GET", "/healthz")
                answer = secure.getresponse()
                break
            except (ConnectionRefusedError, ConnectionResetError):
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.1)
        assert answer.status == 200
        assert (
            answer.getheader("strict-transport-security") == "max-age=31536000; includeSubDomains"
        )
        assert answer.read()
        secure.close()

        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:  # the same port in clear: no answer that an HTTP client could take for one
            plain.request("GET", "/healthz")
            status = plain.getresponse().status
        except (http.client.HTTPException, ConnectionError):
            status = None
        finally:
            plain.close()
        assert status is None  # no HTTP answer in clear: the handshake fails, the line is cut
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_certificate_without_its_key_is_refused(env, cli, tmp_path):
    cert_file, _ = self_signed(tmp_path)
    result = cli("serve", "--ssl-certfile", str(cert_file))
    assert result.exit_code == 2 and "--ssl-keyfile" in result.stderr
