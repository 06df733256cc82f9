"""Throwaway certificates for one fakemail run: a CA and the server variants."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from enum import StrEnum
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# The names every valid certificate covers: clients reach fakemail on loopback.
SERVER_NAMES = ("127.0.0.1", "localhost")

# A name that no loopback client asks for, so host name checks fail on it.
WRONG_HOST_NAME = "wrong-host.fakemail.invalid"


class CertificateVariant(StrEnum):
    """The server certificate a listener presents."""

    VALID = "valid"
    SELF_SIGNED = "self-signed"
    EXPIRED = "expired"
    WRONG_HOST = "wrong-host"


class TLSMaterials:
    """A per-run CA, the CA file clients trust, and one server context per variant.

    Only certificates of the ``valid`` variant verify against ``ca_path``:
    ``self-signed`` has no issuer in that file, ``expired`` ended a day ago and
    ``wrong-host`` names ``WRONG_HOST_NAME`` instead of 127.0.0.1 and localhost.
    """

    def __init__(self, directory: Path | None = None) -> None:
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="fakemail-tls-"))
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._ca = trustme.CA(organization_name="fakemail throwaway CA")
        self.ca_path = directory / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_path))
        self._contexts: dict[CertificateVariant, ssl.SSLContext] = {}

    def server_context(self, variant: CertificateVariant | str) -> ssl.SSLContext:
        """Return the server-side SSL context presenting the ``variant`` certificate."""
        variant = CertificateVariant(variant)
        context = self._contexts.get(variant)
        if context is None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            certificate, key = self._write_certificate(variant)
            context.load_cert_chain(certificate, key)
            self._contexts[variant] = context
        return context

    def client_context(self, *, validate: bool = True) -> ssl.SSLContext:
        """Return a client context trusting this run's CA, or verifying nothing."""
        context = ssl.create_default_context(cafile=str(self.ca_path))
        if not validate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _write_certificate(self, variant: CertificateVariant) -> tuple[Path, Path]:
        certificate = self.directory / f"{variant.value}.pem"
        key = self.directory / f"{variant.value}.key"
        if variant is CertificateVariant.SELF_SIGNED:
            certificate_pem, key_pem = _self_signed_pem()
            certificate.write_bytes(certificate_pem)
            key.write_bytes(key_pem)
            key.chmod(0o600)
            return certificate, key

        # mbsync 1.4 and fetchmail 6.4 read the subject's Common Name and
        # reject a certificate without one, so every leaf gets a CN too.
        if variant is CertificateVariant.VALID:
            leaf = self._ca.issue_cert(*SERVER_NAMES, common_name=SERVER_NAMES[0])
        elif variant is CertificateVariant.EXPIRED:
            now = datetime.datetime.now(datetime.UTC)
            leaf = self._ca.issue_cert(
                *SERVER_NAMES,
                common_name=SERVER_NAMES[0],
                not_before=now - datetime.timedelta(days=30),
                not_after=now - datetime.timedelta(days=1),
            )
        else:
            leaf = self._ca.issue_cert(WRONG_HOST_NAME, common_name=WRONG_HOST_NAME)
        leaf.private_key_pem.write_to_path(str(key))
        key.chmod(0o600)
        with certificate.open("wb") as out:
            for blob in leaf.cert_chain_pems:
                out.write(blob.bytes())
        return certificate, key


def _self_signed_pem() -> tuple[bytes, bytes]:
    """Build a certificate for the loopback names that signs itself."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fakemail self-signed")])
    now = datetime.datetime.now(datetime.UTC)
    alternative_names = x509.SubjectAlternativeName(
        [
            x509.IPAddress(ipaddress.ip_address(SERVER_NAMES[0])),
            x509.DNSName(SERVER_NAMES[1]),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(alternative_names, critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem
