"""The bundled failure scenarios fail the way they promise, seen by real clients."""

from __future__ import annotations

import asyncio
import imaplib
import smtplib
import ssl

import pytest

from fakemail.clock import SteppedClock
from fakemail.server import FakeMail
from tests.fakemail.conftest import SCENARIOS


async def _start(fakemail_server, name: str) -> tuple[FakeMail, SteppedClock]:
    clock = SteppedClock()
    server = await fakemail_server(SCENARIOS / name, clock=clock)
    return server, clock


def _imap_ssl(server: FakeMail, channel: str, validate: bool) -> imaplib.IMAP4_SSL:
    endpoint = server.endpoint(channel)
    context = server.tls.client_context(validate=validate)
    return imaplib.IMAP4_SSL(
        endpoint.host, endpoint.port, ssl_context=context, timeout=5
    )


async def test_starttls_missing_is_not_offered(fakemail_server) -> None:
    server, _ = await _start(fakemail_server, "starttls-missing")
    endpoint = server.endpoint("Support")

    def attempt() -> tuple[tuple[str, ...], str]:
        client = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=5)
        try:
            capabilities = client.capabilities
            with pytest.raises(imaplib.IMAP4.error) as caught:
                client.starttls(server.tls.client_context())
            return capabilities, str(caught.value)
        finally:
            client.shutdown()

    capabilities, error = await asyncio.to_thread(attempt)
    assert "STARTTLS" not in capabilities
    assert "TLS not supported" in error


@pytest.mark.parametrize("channel", ["Self-signed", "Expired"])
async def test_bad_certificate_fails_validation(fakemail_server, channel: str) -> None:
    server, _ = await _start(fakemail_server, "bad-certificate")
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(_imap_ssl, server, channel, True)


async def test_wrong_host_fails_after_starttls(fakemail_server) -> None:
    server, _ = await _start(fakemail_server, "bad-certificate")
    endpoint = server.endpoint("Wrong host")

    def attempt() -> None:
        client = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=5)
        try:
            client.starttls(server.tls.client_context(validate=True))
        finally:
            # The failed handshake has already closed the socket.
            client.sock.close()

    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        await asyncio.to_thread(attempt)


async def test_unvalidated_channel_reads_mail(fakemail_server) -> None:
    server, _ = await _start(fakemail_server, "bad-certificate")
    endpoint = server.endpoint("Expired, not validated")

    def read() -> int:
        client = _imap_ssl(server, "Expired, not validated", False)
        try:
            client.login(endpoint.username, str(endpoint.secret))
            return int(client.select("INBOX", readonly=True)[1][0])
        finally:
            client.logout()

    assert await asyncio.to_thread(read) == 3


async def test_wrong_password_rejected_by_both(fakemail_server) -> None:
    server, _ = await _start(fakemail_server, "wrong-password")
    incoming = server.endpoint("Support")
    outgoing = server.endpoint("Support SMTP")
    assert incoming.secret == "not-the-password"

    def imap_login() -> None:
        client = _imap_ssl(server, "Support", True)
        try:
            client.login(incoming.username, str(incoming.secret))
        finally:
            client.shutdown()

    def smtp_login() -> None:
        with smtplib.SMTP(outgoing.host, outgoing.port, timeout=5) as client:
            client.starttls(context=server.tls.client_context())
            client.login(outgoing.username, str(outgoing.secret))

    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        await asyncio.to_thread(imap_login)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        await asyncio.to_thread(smtp_login)


async def test_expired_token_rejected_by_both(fakemail_server) -> None:
    server, _ = await _start(fakemail_server, "expired-token")
    incoming = server.endpoint("Support")
    outgoing = server.endpoint("Support SMTP")
    assert incoming.auth == "oauth"
    sasl = f"user={incoming.username}\x01auth=Bearer {incoming.secret}\x01\x01"

    def imap_login() -> None:
        client = _imap_ssl(server, "Support", True)
        challenges = iter([sasl.encode(), b""])
        try:
            client.authenticate("XOAUTH2", lambda _: next(challenges))
        finally:
            client.shutdown()

    def smtp_login() -> None:
        context = server.tls.client_context()
        with smtplib.SMTP_SSL(
            outgoing.host, outgoing.port, context=context, timeout=5
        ) as client:
            client.ehlo()
            client.auth("XOAUTH2", lambda challenge=None: "" if challenge else sasl)

    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        await asyncio.to_thread(imap_login)
    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        await asyncio.to_thread(smtp_login)
    assert caught.value.smtp_code == 535


async def test_drop_mid_fetch_cuts_first_fetch(fakemail_server) -> None:
    server, clock = await _start(fakemail_server, "drop-mid-fetch")
    await clock.advance(0)
    endpoint = server.endpoint("Support")

    def fetch() -> bytes:
        client = _imap_ssl(server, "Support", True)
        client.login(endpoint.username, str(endpoint.secret))
        client.select("INBOX")
        status, data = client.uid("FETCH", "1", "(BODY.PEEK[])")
        client.logout()
        assert status == "OK"
        return data[0][1]

    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        await asyncio.to_thread(fetch)
    body = await asyncio.to_thread(fetch)
    assert b"order 1042" in body


async def test_uidvalidity_changes_at_twenty_seconds(fakemail_server) -> None:
    server, clock = await _start(fakemail_server, "uidvalidity-change")
    endpoint = server.endpoint("Support")

    def uidvalidity() -> bytes:
        client = _imap_ssl(server, "Support", True)
        try:
            client.login(endpoint.username, str(endpoint.secret))
            status, data = client.status("INBOX", "(UIDVALIDITY MESSAGES)")
            assert status == "OK"
            return data[0]
        finally:
            client.logout()

    before = await asyncio.to_thread(uidvalidity)
    await clock.advance(20)
    after = await asyncio.to_thread(uidvalidity)
    assert before != after
    assert b"MESSAGES 3" in after
