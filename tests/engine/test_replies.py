"""The operator reply path, and a reply whose answer comes back over fakemail."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakemail.clock import SteppedClock
from fakemail.server import FakeMail
from sagicc_tui.engine.outbox import OutboxWorker
from sagicc_tui.engine.replies import (
    MESSAGE_ID_KEY_NAME,
    ReplyError,
    message_id_key,
    queue_forward,
    queue_new_message,
    queue_reply,
)
from sagicc_tui.engine.runner import Engine
from sagicc_tui.mail.record import Address
from sagicc_tui.paths import resolve_paths
from sagicc_tui.replay.environment import build_channels, write_environment
from sagicc_tui.settings import Config, FileSecretStore
from sagicc_tui.settings.models import IncomingChannel, OutgoingChannel
from sagicc_tui.store import Direction, OutboxState, TicketStore
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.tickets import verify_message_id
from tests.store.mail import raw_message

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
KEY = bytes(range(32))
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

CONFIG = Config(
    incoming=(
        IncomingChannel(name="support", host="127.0.0.1", outgoing_channel="smtp"),
        IncomingChannel(name="silent", host="127.0.0.1"),
    ),
    outgoing=(
        OutgoingChannel(
            name="smtp",
            host="127.0.0.1",
            sender_address="help@shop.example",
            sender_name="Shop Help",
            signature="Shop Help Desk",
        ),
    ),
)


@pytest.fixture
def store() -> Iterator[TicketStore]:
    opened = TicketStore.open()
    try:
        yield opened
    finally:
        opened.close()


def _ingest(store: TicketStore, *raws: bytes, channel: str = "support") -> list[int]:
    params = IngestParams(channel=channel, grouping="thread", folder="INBOX")
    results = ingest(store, params, list(raws), now=NOW)
    return [result.ticket_id for result in results if result.ticket_id is not None]


def _headers(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_reply_threads_to_latest_customer_message(store: TicketStore) -> None:
    first = raw_message("ask-1@example.com")
    second = raw_message(
        "ask-2@example.com",
        minutes=5,
        in_reply_to="ask-1@example.com",
        references="<ask-1@example.com>",
    )
    ticket_id = _ingest(store, first, second)[0]

    item = queue_reply(
        store, CONFIG, KEY, ticket_id=ticket_id, body="We are on it.", who="alice"
    )

    headers = _headers(item.raw)
    assert headers["In-Reply-To"] == "<ask-2@example.com>"
    assert headers["References"] == "<ask-1@example.com> <ask-2@example.com>"
    assert headers["Subject"] == "Re: Printer broken [#1]"
    assert str(headers["From"]) == "Shop Help <help@shop.example>"
    assert item.rcpt_to == ["ann@example.com"]
    assert item.channel == "smtp"
    assert item.state == OutboxState.QUEUED
    assert "Shop Help Desk" in headers.get_content()


def test_reply_message_id_is_signed(store: TicketStore) -> None:
    ticket_id = _ingest(store, raw_message("ask-1@example.com"))[0]

    item = queue_reply(store, CONFIG, KEY, ticket_id=ticket_id, body="Hi", who="a")

    assert verify_message_id(item.message_id, KEY) == 1
    assert item.message_id.endswith("@shop.example")
    assert verify_message_id(item.message_id, bytes(32)) is None


def test_reply_copy_joins_ticket(store: TicketStore) -> None:
    ticket_id = _ingest(store, raw_message("ask-1@example.com"))[0]

    item = queue_reply(store, CONFIG, KEY, ticket_id=ticket_id, body="Hi", who="a")

    messages = store.ticket_messages(ticket_id)
    assert [m.message_id for m in messages] == ["ask-1@example.com", item.message_id]
    assert messages[1].direction == Direction.OUT
    assert item.ticket_id == ticket_id


def test_reply_answers_chosen_message(store: TicketStore) -> None:
    first = raw_message("ask-1@example.com")
    second = raw_message(
        "ask-2@example.com", minutes=5, in_reply_to="ask-1@example.com"
    )
    ticket_id = _ingest(store, first, second)[0]
    row = store.find_message("support", "ask-1@example.com")
    assert row is not None

    item = queue_reply(
        store,
        CONFIG,
        KEY,
        ticket_id=ticket_id,
        body="Hi",
        who="a",
        in_reply_to_message_row=row.id,
    )

    assert _headers(item.raw)["In-Reply-To"] == "<ask-1@example.com>"


def test_reply_all_adds_cc_without_us(store: TicketStore) -> None:
    raw = raw_message(
        "ask-1@example.com",
        to="Support <help@shop.example>, Bob <bob@example.com>",
    )
    ticket_id = _ingest(store, raw)[0]

    item = queue_reply(
        store, CONFIG, KEY, ticket_id=ticket_id, body="Hi", who="a", reply_all=True
    )

    assert sorted(item.rcpt_to) == ["ann@example.com", "bob@example.com"]
    assert "help@shop.example" not in str(_headers(item.raw)["Cc"])


def test_reply_edited_recipients_set_envelope(store: TicketStore) -> None:
    ticket_id = _ingest(store, raw_message("ask-1@example.com"))[0]

    item = queue_reply(
        store,
        CONFIG,
        KEY,
        ticket_id=ticket_id,
        body="Hi",
        who="a",
        to=[Address("Carol", "carol@example.com")],
        cc=[Address("", "dan@example.com")],
        subject="Re: Printer broken [#1] (update)",
    )

    headers = _headers(item.raw)
    assert item.rcpt_to == ["carol@example.com", "dan@example.com"]
    assert str(headers["To"]) == "Carol <carol@example.com>"
    assert headers["Subject"] == "Re: Printer broken [#1] (update)"


def test_reply_rejects_line_break_in_recipient(store: TicketStore) -> None:
    ticket_id = _ingest(store, raw_message("ask-1@example.com"))[0]

    with pytest.raises(ReplyError, match="not a valid email address"):
        queue_reply(
            store,
            CONFIG,
            KEY,
            ticket_id=ticket_id,
            body="Hi",
            who="a",
            to=[Address("Eve\r\nBcc: x@evil.example", "eve@example.com")],
        )
    assert store.outbox() == []


def test_reply_unknown_ticket_fails(store: TicketStore) -> None:
    with pytest.raises(ReplyError, match="ticket id 99 not found"):
        queue_reply(store, CONFIG, KEY, ticket_id=99, body="Hi", who="a")


def test_reply_without_outgoing_channel_fails(store: TicketStore) -> None:
    ticket_id = _ingest(store, raw_message("ask-1@example.com"), channel="silent")[0]

    with pytest.raises(ReplyError) as raised:
        queue_reply(store, CONFIG, KEY, ticket_id=ticket_id, body="Hi", who="a")

    assert "'silent'" in str(raised.value)
    assert "outgoing_channel" in str(raised.value)


def test_reply_missing_outgoing_channel_named(store: TicketStore) -> None:
    config = Config(
        incoming=(IncomingChannel(name="support", outgoing_channel="gone"),)
    )
    ticket_id = _ingest(store, raw_message("ask-1@example.com"))[0]

    with pytest.raises(ReplyError, match="'gone', which is not configured"):
        queue_reply(store, config, KEY, ticket_id=ticket_id, body="Hi", who="a")


def test_message_id_key_created_once() -> None:
    secrets = FileSecretStore(resolve_paths().ensure().secrets_dir)

    first = message_id_key(secrets)
    second = message_id_key(secrets)

    assert len(first) == 32
    assert first == second
    assert secrets.get(MESSAGE_ID_KEY_NAME) == first.hex()


def test_reply_reads_key_from_secret_store(store: TicketStore) -> None:
    secrets = FileSecretStore(resolve_paths().ensure().secrets_dir)
    ticket_id = _ingest(store, raw_message("ask-1@example.com"))[0]

    item = queue_reply(store, CONFIG, secrets, ticket_id=ticket_id, body="x", who="a")

    assert verify_message_id(item.message_id, message_id_key(secrets)) == 1


def test_new_message_opens_tagged_ticket(store: TicketStore) -> None:
    item = queue_new_message(
        store,
        CONFIG,
        KEY,
        channel="support",
        to=[Address("Ann", "ann@example.com")],
        subject="Your order",
        body="It shipped.",
        who="alice",
    )

    assert item.ticket_id is not None
    ticket = store.get_ticket(item.ticket_id)
    assert ticket is not None
    assert ticket.customer_addr == "ann@example.com"
    assert _headers(item.raw)["Subject"] == f"Your order {ticket.tag}"
    assert verify_message_id(item.message_id, KEY) == ticket.number


def test_forward_quotes_original(store: TicketStore) -> None:
    ticket_id = _ingest(store, raw_message("ask-1@example.com"))[0]

    item = queue_forward(
        store,
        CONFIG,
        KEY,
        ticket_id=ticket_id,
        to=[Address("", "vendor@example.org")],
        body="Can you check this?",
        who="alice",
    )

    headers = _headers(item.raw)
    assert headers["Subject"] == "Fwd: Printer broken [#1]"
    assert item.rcpt_to == ["vendor@example.org"]
    text = headers.get_body(preferencelist=("plain",))
    assert text is not None
    assert "> My printer does not print." in text.get_content()
    assert store.ticket_messages(ticket_id)[-1].message_id == item.message_id
    # The original travels whole, so its attachments go along.
    (attached,) = list(headers.iter_attachments())
    assert attached.get_content_type() == "message/rfc822"
    assert attached.get_content()["Message-ID"] == "<ask-1@example.com>"


async def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    # A bound against hangs only, not a speed check.
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_reply_answer_joins_ticket_over_fakemail(tmp_path: Path) -> None:
    clock = SteppedClock()
    server = FakeMail(SCENARIOS / "basic", clock=clock, state_dir=tmp_path / "fm")
    await server.start()
    paths = resolve_paths().ensure()
    config = build_channels(server.scenario, server, "thread")
    secrets = write_environment(server.scenario, server, config, paths)
    key = message_id_key(secrets)
    store = TicketStore.open(paths=paths)
    engine = Engine(
        config,
        store,
        secrets,
        ca_file=str(server.ca_path),
        message_id_key=key,
        parse_workers=0,
        run_outbox=False,
    )
    task = asyncio.create_task(engine.run())
    try:
        await _wait_for(
            lambda: store.find_message("Support", "CAE+refund2211@customer.example"),
            "the customer's message in the store",
        )
        customer = store.find_message("Support", "CAE+refund2211@customer.example")
        assert customer is not None and customer.ticket_id is not None

        item = queue_reply(
            store,
            config,
            key,
            ticket_id=customer.ticket_id,
            body="The refund was sent today.",
            who="alice",
        )
        worker = OutboxWorker(store, config, secrets)
        assert await worker.send_due() == 1

        records = server.outbox.records()
        assert len(records) == 1
        assert records[0].rcpt_tos == ("erin@customer.example",)
        assert records[0].header("In-Reply-To") == "<CAE+refund2211@customer.example>"
        assert records[0].header("Message-ID").strip() == f"<{item.message_id}>"

        # The responder answers 20 scenario seconds after the reply arrived.
        await clock.advance(25)
        answers = server.responders.answers
        assert [answer.name for answer in answers] == ["erin-answer"]
        answer_id = answers[0].message_id.strip("<>")
        await _wait_for(
            lambda: store.find_message("Support", answer_id), "the customer's answer"
        )
        answer = store.find_message("Support", answer_id)
        assert answer is not None
        assert answer.ticket_id == customer.ticket_id
        assert item.message_id in answer.reason
        sent = store.outbox()[0]
        assert sent.state == OutboxState.SENT
    finally:
        await engine.stop()
        await asyncio.wait_for(task, 15)
        store.close()
        await server.stop()
        server.close()
