"""The IMAP layer against fakemail: OAuth, STARTTLS, certificates and faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakemail.faults import FaultAction, FaultRule
from sagicc_tui.engine.errors import (
    AuthenticationFailed,
    CertificateInvalid,
    ConnectionDropped,
    StartTlsFailed,
    TokenRejected,
)
from sagicc_tui.engine.imap import ImapClient, ImapEndpoint
from tests.engine.fakemail_support import (
    EXPIRED_TOKEN,
    PASSWORD,
    USER,
    VALID_TOKEN,
    FakeImap,
    fake_imap,
)
from tests.engine.helpers import make_message


def client_for(fake: FakeImap, **changes: object) -> ImapClient:
    options = {"ca_file": str(fake.ca_path), "timeout": 5.0, **changes}
    return ImapClient(ImapEndpoint("127.0.0.1", fake.port, fake.mode, **options))


async def test_xoauth2_valid_token(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        client = client_for(fake)
        await client.connect()
        await client.login_xoauth2(USER, VALID_TOKEN)
        status = await client.select("INBOX")
        await client.logout()

    assert status.exists == 0


async def test_xoauth2_expired_token_answers_challenge(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        client = client_for(fake)
        await client.connect()
        with pytest.raises(TokenRejected) as caught:
            await client.login_xoauth2(USER, EXPIRED_TOKEN)
        await client.logout()
        sent = fake.client_lines()

    assert caught.value.details.get("status") == "401"
    assert "Sign in" in str(caught.value)
    assert not any("LOGIN" in line.upper() for line in sent)
    assert not any("AUTHENTICATE PLAIN" in line.upper() for line in sent)


@pytest.mark.parametrize("sasl_ir", [True, False])
async def test_plain_with_and_without_sasl_ir(tmp_path: Path, sasl_ir: bool) -> None:
    disabled = () if sasl_ir else ("SASL-IR",)
    async with fake_imap(tmp_path, disabled=disabled) as fake:
        client = client_for(fake)
        await client.connect()
        await client.login(USER, PASSWORD)
        await client.select("INBOX")
        await client.logout()


async def test_starttls_missing_sends_nothing(tmp_path: Path) -> None:
    async with fake_imap(tmp_path, "starttls", disabled=("STARTTLS",)) as fake:
        client = client_for(fake)
        with pytest.raises(StartTlsFailed) as caught:
            await client.connect()
        sent = fake.client_lines()

    assert "STARTTLS" in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    assert not client.connected
    assert not any("LOGIN" in line or "AUTHENTICATE" in line for line in sent)


async def test_logindisabled_in_clear(tmp_path: Path) -> None:
    async with fake_imap(tmp_path, "none", login_disabled_before_tls=True) as fake:
        client = client_for(fake)
        await client.connect()
        with pytest.raises(AuthenticationFailed) as caught:
            await client.login(USER, PASSWORD)
        client.abort()

    assert "LOGINDISABLED" in str(caught.value)
    assert "starttls" in str(caught.value)


async def test_logindisabled_lifted_by_starttls(tmp_path: Path) -> None:
    async with fake_imap(tmp_path, "starttls", login_disabled_before_tls=True) as fake:
        client = client_for(fake)
        await client.connect()
        await client.login(USER, PASSWORD)
        await client.logout()

    assert "LOGINDISABLED" not in client.capabilities


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
@pytest.mark.parametrize(
    ("variant", "words"),
    [
        ("expired", "has expired"),
        ("self-signed", "self-signed"),
        ("wrong-host", "not valid for the host name 127.0.0.1"),
    ],
)
async def test_bad_certificates(
    tmp_path: Path, mode: str, variant: str, words: str
) -> None:
    async with fake_imap(tmp_path, mode, variant=variant) as fake:
        checked = client_for(fake)
        with pytest.raises(CertificateInvalid) as caught:
            await checked.connect()
        unchecked = client_for(fake, validate_certificates=False)
        await unchecked.connect()
        await unchecked.login(USER, PASSWORD)
        await unchecked.logout()

    assert words in str(caught.value)
    assert "only if you administer this server" in str(caught.value)
    if mode == "starttls":
        assert "STARTTLS" in str(caught.value)


async def test_drop_mid_fetch_fails_fast(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        fake.store.deliver(USER, "INBOX", make_message(1, body="x" * 4000))
        fake.faults.add(FaultRule("UID FETCH", FaultAction.CUT_LITERAL))
        # A long timeout: the error must come from the closed connection.
        client = client_for(fake, timeout=60.0)
        await client.connect()
        await client.login(USER, PASSWORD)
        await client.select("INBOX")
        with pytest.raises(ConnectionDropped) as caught:
            await client.uid_fetch("1", "(UID BODY.PEEK[])")

    assert "closed the connection during UID FETCH" in str(caught.value)


async def test_exists_during_fetch_is_reported(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        for number in range(1, 4):
            fake.store.deliver(USER, "INBOX", make_message(number))
        client = client_for(fake)
        await client.connect()
        await client.login(USER, PASSWORD)
        await client.select("INBOX")
        client.mailbox_changed.clear()
        fake.store.deliver(USER, "INBOX", make_message(4))
        fetched = await client.uid_fetch("1:3", "(UID BODY.PEEK[])")
        await client.logout()

    assert [message.uid for message in fetched] == [1, 2, 3]
    assert client.mailbox_changed.is_set()
    assert client.protocol.last_exists == 4


async def test_unicode_folder_on_wire(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        client = client_for(fake)
        await client.connect()
        await client.login(USER, PASSWORD)
        await client.create_folder("Réclamations/客服")
        await client.select("Réclamations/客服")
        await client.logout()
        sent = fake.client_lines()

    assert any('"R&AOk-clamations/&W6JnDQ-"' in line for line in sent)
    assert fake.store.has_folder(USER, "Réclamations/客服")


async def test_command_timeout_drops_connection(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        fake.faults.add(FaultRule("SELECT", FaultAction.DELAY, seconds=2))
        client = client_for(fake, timeout=0.5)
        await client.connect()
        await client.login(USER, PASSWORD)
        with pytest.raises(ConnectionDropped) as caught:
            await client.select("INBOX")

    assert "no response to SELECT within 0.5 s" in str(caught.value)
    assert not client.connected


def test_utf8_folder_names_after_enable() -> None:
    client = ImapClient(ImapEndpoint("127.0.0.1", 993))

    legacy = client.mailbox_argument('Réclamations "VIP"')
    client.utf8_enabled = True
    utf8 = client.mailbox_argument('Réclamations "VIP"')

    assert legacy == '"R&AOk-clamations \\"VIP\\""'
    assert utf8 == '"Réclamations \\"VIP\\""'
