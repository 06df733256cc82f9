"""Certificate variants checked with real ssl clients, validation on and off."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from fakemail.tls import CertificateVariant, TLSMaterials


async def _serve_tls(context: ssl.SSLContext) -> tuple[asyncio.AbstractServer, int]:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=context)
    return server, server.sockets[0].getsockname()[1]


def _connect(port: int, context: ssl.SSLContext, host: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.recv(100)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_valid_certificate_verifies(
    fakemail_tls: TLSMaterials, host: str
) -> None:
    server, port = await _serve_tls(fakemail_tls.server_context("valid"))
    async with server:
        greeting = await asyncio.to_thread(
            _connect, port, fakemail_tls.client_context(validate=True), host
        )
    assert greeting == b"hello\r\n"


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        (CertificateVariant.SELF_SIGNED, "self-signed certificate"),
        (CertificateVariant.EXPIRED, "certificate has expired"),
        (CertificateVariant.WRONG_HOST, "IP address mismatch"),
    ],
)
async def test_bad_certificate_fails_validation(
    fakemail_tls: TLSMaterials, variant: CertificateVariant, reason: str
) -> None:
    server, port = await _serve_tls(fakemail_tls.server_context(variant))
    async with server:
        with pytest.raises(ssl.SSLCertVerificationError) as caught:
            await asyncio.to_thread(
                _connect, port, fakemail_tls.client_context(validate=True), "127.0.0.1"
            )
    assert reason in str(caught.value)


@pytest.mark.parametrize("variant", list(CertificateVariant))
async def test_any_certificate_connects_without_validation(
    fakemail_tls: TLSMaterials, variant: CertificateVariant
) -> None:
    server, port = await _serve_tls(fakemail_tls.server_context(variant))
    async with server:
        greeting = await asyncio.to_thread(
            _connect, port, fakemail_tls.client_context(validate=False), "127.0.0.1"
        )
    assert greeting == b"hello\r\n"


def test_ca_file_is_pem(tmp_path) -> None:
    materials = TLSMaterials(tmp_path)
    assert materials.ca_path == tmp_path / "ca.pem"
    assert materials.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_system_trust_rejects_throwaway_ca(fakemail_tls: TLSMaterials) -> None:
    # A client with only the system trust store must not trust fakemail's CA.
    context = ssl.create_default_context()
    der = ssl.PEM_cert_to_DER_cert(fakemail_tls.ca_path.read_text())
    assert der not in [cert for cert in context.get_ca_certs(binary_form=True)]


@pytest.mark.parametrize(
    ("variant", "name"),
    [
        (CertificateVariant.VALID, "127.0.0.1"),
        (CertificateVariant.EXPIRED, "127.0.0.1"),
        (CertificateVariant.WRONG_HOST, "wrong-host.fakemail.invalid"),
    ],
)
def test_certificate_has_common_name(
    fakemail_tls: TLSMaterials, variant: CertificateVariant, name: str
) -> None:
    # mbsync and fetchmail reject a server certificate without a Common Name.
    fakemail_tls.server_context(variant)
    pem = (fakemail_tls.directory / f"{variant.value}.pem").read_bytes()
    leaf = x509.load_pem_x509_certificate(pem)
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [n.value for n in names] == [name]
