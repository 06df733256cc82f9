"""The outbox worker sends queued replies, retries failures, saves Sent copies."""

from __future__ import annotations

import imaplib
import random
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from sagicc_tui.engine.clock import ManualClock
from sagicc_tui.engine.outbox import OutboxWorker, retry_delay
from sagicc_tui.engine.smtp import SendError
from sagicc_tui.settings import PASSWORD, FileSecretStore, secret_key
from sagicc_tui.settings.models import (
    Config,
    Encryption,
    IncomingChannel,
    OutgoingChannel,
)
from sagicc_tui.store import OutboxState, TicketStore
from tests.engine.test_smtp_send import Recorder
from tests.support.dovecot import Dovecot
from tests.support.ports import free_port

RAW = (
    b"From: Support <support@acme.test>\r\n"
    b"To: ann@customer.test\r\n"
    b"Subject: Re: Printer [#1]\r\n"
    b"Message-ID: <reply-1@acme.test>\r\n"
    b"\r\n"
    b"We are on it.\r\n"
)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Recorder]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, recorder
    finally:
        controller.stop()


@pytest.fixture
def store() -> Iterator[TicketStore]:
    opened = TicketStore.open()
    try:
        yield opened
    finally:
        opened.close()


def outgoing(port: int, **changes: object) -> OutgoingChannel:
    fields: dict[str, object] = {
        "name": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "encryption": Encryption.NONE,
        "sender_address": "support@acme.test",
        "save_to_sent": False,
    }
    fields.update(changes)
    return OutgoingChannel(**fields)  # type: ignore[arg-type]


def queue(store: TicketStore) -> int:
    item = store.queue_outgoing(
        outgoing_channel="smtp",
        raw=RAW,
        mail_from="support@acme.test",
        rcpt_to=["ann@customer.test"],
        who="operator",
    )
    return item.id


def later_clock() -> ManualClock:
    """A clock just after now, so messages the store queued now are due."""
    return ManualClock(start=datetime.now(UTC) + timedelta(seconds=1))


def secrets_store(tmp_path) -> FileSecretStore:
    return FileSecretStore(tmp_path / "secrets")


async def test_queued_reply_is_sent(smtp_server, store, tmp_path) -> None:
    port, recorder = smtp_server
    config = Config(outgoing=(outgoing(port),))
    worker = OutboxWorker(store, config, secrets_store(tmp_path), clock=later_clock())
    outbox_id = queue(store)

    sent = await worker.send_due()

    assert sent == 1
    assert [r[1] for r in recorder.messages] == [["ann@customer.test"]]
    assert b"Message-ID: <reply-1@acme.test>" in recorder.messages[0][2]
    (item,) = store.outbox()
    assert item.id == outbox_id
    assert item.state == OutboxState.SENT


async def test_refused_connection_retries_later(store, tmp_path) -> None:
    clock = later_clock()
    config = Config(outgoing=(outgoing(free_port()),))
    worker = OutboxWorker(
        store, config, secrets_store(tmp_path), clock=clock, rng=random.Random(1)
    )
    queue(store)

    assert await worker.send_due() == 0

    (item,) = store.outbox()
    assert item.state == OutboxState.FAILED
    assert "127.0.0.1" in (item.last_error or "")
    assert item.next_attempt_at is not None
    assert item.next_attempt_at > clock.now()
    assert await worker.send_due() == 0
    assert store.outbox()[0].attempts == 1


async def test_permanent_failure_waits_for_operator(store, tmp_path) -> None:
    async def reject(*args: object) -> str:
        raise SendError("550 no such user", permanent=True)

    config = Config(outgoing=(outgoing(25),))
    worker = OutboxWorker(
        store, config, secrets_store(tmp_path), clock=later_clock(), sender=reject
    )
    queue(store)

    await worker.send_due()

    (item,) = store.outbox()
    assert item.state == OutboxState.FAILED
    assert item.next_attempt_at is None
    assert item.last_error == "550 no such user"


async def test_unknown_channel_fails_permanently(store, tmp_path) -> None:
    worker = OutboxWorker(store, Config(), secrets_store(tmp_path), clock=later_clock())
    queue(store)

    await worker.send_due()

    (item,) = store.outbox()
    assert item.state == OutboxState.FAILED
    assert "'smtp' is not configured" in (item.last_error or "")
    assert item.next_attempt_at is None


async def test_missing_password_named(smtp_server, store, tmp_path) -> None:
    port, recorder = smtp_server
    config = Config(outgoing=(outgoing(port, username="support@acme.test"),))
    worker = OutboxWorker(store, config, secrets_store(tmp_path), clock=later_clock())
    queue(store)

    await worker.send_due()

    (item,) = store.outbox()
    assert item.state == OutboxState.FAILED
    assert "sagicc channels edit smtp" in (item.last_error or "")
    assert recorder.messages == []


def test_retry_delay_grows_and_caps() -> None:
    rng = random.Random(0)
    delays = [retry_delay(attempt, rng) for attempt in (1, 2, 3, 20)]
    assert 15 <= delays[0] <= 30
    assert 30 <= delays[1] <= 60
    assert 60 <= delays[2] <= 120
    assert delays[3] <= 3600


async def test_sent_copy_appended_to_dovecot(
    smtp_server, store, tmp_path, dovecot: Dovecot
) -> None:
    port, recorder = smtp_server
    incoming = IncomingChannel(
        name="support",
        host="127.0.0.1",
        port=dovecot.imaps_port,
        encryption=Encryption.SSL,
        ca_file=str(dovecot.ca_file),
        username=dovecot.username,
        outgoing_channel="smtp",
    )
    config = Config(
        incoming=(incoming,),
        outgoing=(outgoing(port, save_to_sent=True, sent_folder="Sent"),),
    )
    secrets = secrets_store(tmp_path)
    secrets.set(secret_key("support", PASSWORD), dovecot.password)
    client = imaplib.IMAP4_SSL(
        "127.0.0.1",
        dovecot.imaps_port,
        ssl_context=ssl.create_default_context(cafile=str(dovecot.ca_file)),
    )
    client.login(dovecot.username, dovecot.password)
    client.create("Sent")
    worker = OutboxWorker(store, config, secrets, clock=later_clock())
    queue(store)

    await worker.send_due()

    client.select("Sent")
    status, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    client.logout()
    assert status == "OK"
    assert data[0][1] == RAW
    assert b"\\Seen" in data[0][0]
    assert len(recorder.messages) == 1


async def test_sent_folder_created_when_missing(
    smtp_server, store, tmp_path, dovecot: Dovecot
) -> None:
    port, _ = smtp_server
    incoming = IncomingChannel(
        name="support",
        host="127.0.0.1",
        port=dovecot.imaps_port,
        encryption=Encryption.SSL,
        ca_file=str(dovecot.ca_file),
        username=dovecot.username,
        outgoing_channel="smtp",
    )
    config = Config(
        incoming=(incoming,),
        outgoing=(outgoing(port, save_to_sent=True, sent_folder="Gesendet"),),
    )
    secrets = secrets_store(tmp_path)
    secrets.set(secret_key("support", PASSWORD), dovecot.password)
    worker = OutboxWorker(store, config, secrets, clock=later_clock())
    queue(store)

    await worker.send_due()

    client = imaplib.IMAP4_SSL(
        "127.0.0.1",
        dovecot.imaps_port,
        ssl_context=ssl.create_default_context(cafile=str(dovecot.ca_file)),
    )
    client.login(dovecot.username, dovecot.password)
    status, data = client.select("Gesendet")
    client.logout()
    assert status == "OK"
    assert data == [b"1"]


async def test_sent_copy_skipped_without_password(
    smtp_server, store, tmp_path, dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    port, recorder = smtp_server
    incoming = IncomingChannel(
        name="support",
        host="127.0.0.1",
        port=dovecot.imaps_port,
        encryption=Encryption.SSL,
        ca_file=str(dovecot.ca_file),
        username=dovecot.username,
        outgoing_channel="smtp",
    )
    config = Config(
        incoming=(incoming,),
        outgoing=(outgoing(port, save_to_sent=True, sent_folder="Sent"),),
    )
    worker = OutboxWorker(store, config, secrets_store(tmp_path), clock=later_clock())
    queue(store)

    await worker.send_due()

    (item,) = store.outbox()
    assert item.state == OutboxState.SENT
    assert len(recorder.messages) == 1
    assert "no password is stored for channel 'support'" in caplog.text
