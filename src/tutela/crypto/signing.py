"""The OpenGDPR processor key: RSA signatures with SHA-256 over raw bodies (FIPS 186-4,
RSASSA-PKCS1-v1_5), and the X.509 certificate callers check them with.

Production needs a certificate issued by a trusted authority for the processor's own domain
(OpenGDPR §4.1). `create_test_pair` makes a self-signed one for local use and tests only.
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tutela.errors import TutelaError

__all__ = ["Signer", "SigningKeyError", "create_test_pair", "verify"]

KEY_BITS = 3072


class SigningKeyError(TutelaError):
    """The signing key or certificate cannot be read, or they do not match."""


class Signer:
    """Signs bodies with the processor key; names the domain its certificate is issued to."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate, domain: str):
        if key.public_key().public_numbers() != certificate.public_key().public_numbers():
            raise SigningKeyError("the OpenGDPR key does not match its certificate")
        self._key = key
        self.certificate = certificate
        self.domain = domain

    @classmethod
    def load(cls, *, key_file: Path, certificate_file: Path, domain: str | None) -> Signer:
        try:
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            certificate = x509.load_pem_x509_certificate(certificate_file.read_bytes())
        except (OSError, ValueError) as exc:
            raise SigningKeyError(f"cannot load the OpenGDPR key or certificate ({exc})") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SigningKeyError("the OpenGDPR key must be an RSA key")
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return cls(key, certificate, domain or (str(names[0].value) if names else "localhost"))

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, body: bytes) -> str:
        """The base64 signature of `body`, for `X-OpenGDPR-Signature`."""
        signature = self._key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


def verify(certificate_pem: bytes, body: bytes, signature: str) -> bool:
    """Whether `signature` is the certificate's key's signature of `body` (what a client does)."""
    public = x509.load_pem_x509_certificate(certificate_pem).public_key()
    try:
        public.verify(base64.b64decode(signature), body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def create_test_pair(*, key_file: Path, certificate_file: Path, domain: str) -> None:
    """A new RSA key (file mode 0600) and a self-signed certificate for `domain`, valid a
    year: for trying Tutela and for tests, never for production."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
