"""The IMAP layer against a real Dovecot: encryption modes, sign-in, folders."""

from __future__ import annotations

import asyncio

import pytest

from sagicc_tui.engine.errors import (
    AuthenticationFailed,
    CertificateInvalid,
    ConnectFailed,
    FolderFailed,
    GreetingFailed,
    TlsFailed,
)
from sagicc_tui.engine.imap import ImapClient, ImapEndpoint, uid_set
from tests.support.dovecot import Dovecot
from tests.support.ports import free_port

MESSAGE = (
    b"From: Customer <customer@example.test>\r\n"
    b"To: agent@example.test\r\n"
    b"Subject: (parentheses) {3}\r\n"
    b"Message-ID: <dovecot-1@example.test>\r\n"
    b"\r\n"
    b"Body with ) and {5}\r\n"
)


def endpoint(dovecot: Dovecot, encryption: str, **kwargs) -> ImapEndpoint:
    port = dovecot.imaps_port if encryption == "ssl" else dovecot.imap_port
    options = {"ca_file": str(dovecot.ca_file), "timeout": 10.0, **kwargs}
    return ImapEndpoint("127.0.0.1", port, encryption, **options)


async def signed_in(dovecot: Dovecot, encryption: str = "ssl", **kwargs) -> ImapClient:
    client = ImapClient(endpoint(dovecot, encryption, **kwargs))
    await client.connect()
    await client.login(dovecot.username, dovecot.password)
    return client


@pytest.mark.parametrize("encryption", ["ssl", "starttls", "none"])
async def test_sign_in_each_encryption(dovecot: Dovecot, encryption: str) -> None:
    client = await signed_in(dovecot, encryption)
    status = await client.select("INBOX")
    await client.logout()

    assert status.uidvalidity > 0
    assert status.exists >= 0


async def test_starttls_drops_pre_tls_capabilities(dovecot: Dovecot) -> None:
    client = ImapClient(endpoint(dovecot, "starttls"))
    await client.connect()

    assert "STARTTLS" not in client.capabilities
    assert "AUTH=PLAIN" in client.capabilities
    await client.logout()


async def test_login_without_auth_plain(dovecot: Dovecot) -> None:
    client = ImapClient(endpoint(dovecot, "ssl"))
    await client.connect()
    client.protocol.capabilities.discard("AUTH=PLAIN")

    await client.login(dovecot.username, dovecot.password)
    status = await client.select("INBOX")
    await client.logout()

    assert status.uidvalidity > 0


async def test_validation_without_ca_fails(dovecot: Dovecot) -> None:
    client = ImapClient(endpoint(dovecot, "ssl", ca_file=None))

    with pytest.raises(CertificateInvalid) as caught:
        await client.connect()

    assert "unknown authority" in str(caught.value)
    assert "validation off" in str(caught.value)


async def test_starttls_validation_without_ca_fails(dovecot: Dovecot) -> None:
    client = ImapClient(endpoint(dovecot, "starttls", ca_file=None))

    with pytest.raises(CertificateInvalid) as caught:
        await client.connect()

    assert "STARTTLS" in str(caught.value)
    assert not client.connected


async def test_validation_off_accepts_unknown_ca(dovecot: Dovecot) -> None:
    client = await signed_in(dovecot, "ssl", ca_file=None, validate_certificates=False)
    await client.logout()


async def test_tls_against_plaintext_port(dovecot: Dovecot) -> None:
    client = ImapClient(
        ImapEndpoint("127.0.0.1", dovecot.imap_port, "ssl", timeout=10.0)
    )

    with pytest.raises(TlsFailed) as caught:
        await client.connect()

    assert "without TLS" in str(caught.value)


async def test_plaintext_against_tls_port(dovecot: Dovecot) -> None:
    client = ImapClient(
        ImapEndpoint("127.0.0.1", dovecot.imaps_port, "none", timeout=0.5)
    )

    with pytest.raises(GreetingFailed) as caught:
        await client.connect()

    assert "encryption to ssl" in str(caught.value)


async def test_connection_refused() -> None:
    client = ImapClient(ImapEndpoint("127.0.0.1", free_port(), "ssl"))

    with pytest.raises(ConnectFailed) as caught:
        await client.connect()

    assert "refused" in str(caught.value)


async def test_missing_folder(dovecot: Dovecot) -> None:
    client = await signed_in(dovecot)

    with pytest.raises(FolderFailed) as caught:
        await client.select("Does not exist")
    await client.logout()

    assert "Does not exist" in str(caught.value)


async def test_unicode_folder_round_trip(dovecot: Dovecot) -> None:
    folder = "Überfällig 客服 & Co"
    client = await signed_in(dovecot)
    await client.create_folder(folder)
    await client.append(MESSAGE, folder)

    status = await client.select(folder)
    listing = await client._command("LIST", '""', '"*"')
    await client.logout()

    assert status.exists == 1
    wire_names = b" ".join(line for line in listing.lines if isinstance(line, bytes))
    assert b"&ANw-berf&AOQ-llig &W6JnDQ- &- Co" in wire_names


async def test_fetch_literals_and_search(dovecot: Dovecot) -> None:
    client = await signed_in(dovecot)
    await client.create_folder("Fetch")
    for _ in range(3):
        await client.append(MESSAGE, "Fetch")
    await client.select("Fetch")

    uids = await client.uid_search("UID", "1:*")
    items = "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])"
    fetched = await client.uid_fetch(uid_set(uids), items)
    headers = await client.uid_fetch(str(uids[0]), "(UID BODY.PEEK[HEADER])")
    await client.logout()

    assert len(uids) == 3
    assert [message.uid for message in fetched] == uids
    assert all(message.body == MESSAGE for message in fetched)
    assert all(message.size == len(MESSAGE) for message in fetched)
    assert all(message.internal_date is not None for message in fetched)
    assert headers[0].header_only
    assert headers[0].body.endswith(b"\r\n\r\n")


async def test_idle_reports_append(dovecot: Dovecot) -> None:
    watcher = await signed_in(dovecot)
    await watcher.create_folder("Idle")
    await watcher.select("Idle")
    watcher.mailbox_changed.clear()
    await watcher.idle_start()

    writer = await signed_in(dovecot)
    await writer.append(MESSAGE, "Idle")
    await writer.logout()
    await asyncio.wait_for(watcher.mailbox_changed.wait(), timeout=30)
    await watcher.idle_done()
    uids = await watcher.uid_search("UID", "1:*")
    await watcher.logout()

    assert watcher.protocol.last_exists == 1
    assert len(uids) == 1


def test_uid_set_compacts_ranges() -> None:
    assert uid_set([5, 1, 2, 3, 9, 10, 3]) == "1:3,5,9:10"
    assert uid_set([7]) == "7"
    with pytest.raises(ValueError):
        uid_set([])


# Dovecot delays sign-ins from an address after a failure, so these run last.
@pytest.mark.parametrize("mechanism", ["plain", "login"])
async def test_wrong_password_rejected(dovecot: Dovecot, mechanism: str) -> None:
    client = ImapClient(endpoint(dovecot, "ssl"))
    await client.connect()
    if mechanism == "login":
        client.protocol.capabilities.discard("AUTH=PLAIN")

    with pytest.raises(AuthenticationFailed) as caught:
        await client.login(dovecot.username, "wrong-password")
    client.abort()

    assert "AUTHENTICATIONFAILED" in caught.value.server_text
    assert "127.0.0.1" in str(caught.value)
    assert "wrong-password" not in str(caught.value)
