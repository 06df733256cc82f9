"""Acknowledgements: who gets one, their headers, and the hourly limit per address."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sagicc_tui.engine.acks import (
    ACK_ACTOR,
    MAX_PER_HOUR,
    ChangeLogAcknowledger,
    maybe_acknowledge,
)
from sagicc_tui.settings import Config
from sagicc_tui.settings.models import IncomingChannel, OutgoingChannel
from sagicc_tui.store import TicketStore
from sagicc_tui.store.ingest import IngestParams, IngestResult, ingest
from sagicc_tui.tickets import verify_message_id
from tests.store.mail import BASE_TIME, raw_message

KEY = bytes(range(32))
NOW = BASE_TIME + timedelta(hours=1)

CONFIG = Config(
    incoming=(
        IncomingChannel(
            name="support", outgoing_channel="smtp", acknowledge_new_tickets=True
        ),
        IncomingChannel(name="quiet", outgoing_channel="smtp"),
    ),
    outgoing=(
        OutgoingChannel(
            name="smtp", sender_address="help@shop.example", sender_name="Shop Help"
        ),
    ),
)

BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
    b"To: help@shop.example\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n"
    b"Message-ID: <bounce-1@mx.example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
    b"\r\n"
    b"--b\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"Delivery failed.\r\n"
    b"--b\r\n"
    b"Content-Type: message/delivery-status\r\n"
    b"\r\n"
    b"Reporting-MTA: dns; mx.example.com\r\n"
    b"\r\n"
    b"Final-Recipient: rfc822; nobody@example.com\r\n"
    b"Action: failed\r\n"
    b"Status: 5.1.1\r\n"
    b"--b--\r\n"
)


@pytest.fixture
def store() -> Iterator[TicketStore]:
    opened = TicketStore.open()
    try:
        yield opened
    finally:
        opened.close()


def _ingest(
    store: TicketStore, *raws: bytes, channel: str = "support", grouping: str = "none"
) -> list[IngestResult]:
    params = IngestParams(channel=channel, grouping=grouping, folder="INBOX")
    return ingest(store, params, list(raws), now=NOW)


def _acknowledge(
    store: TicketStore, results: list[IngestResult], now: datetime = NOW
) -> list[str]:
    decisions = maybe_acknowledge(store, CONFIG, KEY, results, now=now)
    return [decision.reason for decision in decisions]


def _message(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_new_ticket_gets_acknowledgement(store: TicketStore) -> None:
    results = _ingest(store, raw_message("ask-1@example.com"))

    assert _acknowledge(store, results) == ["queued"]

    [item] = store.outbox()
    headers = _message(item.raw)
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    assert headers["In-Reply-To"] == "<ask-1@example.com>"
    assert headers["References"] == "<ask-1@example.com>"
    assert headers["Subject"] == "Re: Printer broken [#1]"
    assert "[#1]" in headers.get_content()
    assert item.rcpt_to == ["ann@example.com"]
    assert item.created_by == ACK_ACTOR
    assert verify_message_id(item.message_id, KEY) == 1


def test_acknowledgement_joins_ticket(store: TicketStore) -> None:
    results = _ingest(store, raw_message("ask-1@example.com"))

    _acknowledge(store, results)

    ticket_id = results[0].ticket_id
    assert ticket_id is not None
    messages = store.ticket_messages(ticket_id)
    assert len(messages) == 2
    assert messages[1].message_id == store.outbox()[0].message_id


def test_followup_gets_no_acknowledgement(store: TicketStore) -> None:
    first = _ingest(store, raw_message("ask-1@example.com"), grouping="thread")
    _acknowledge(store, first)
    followup = raw_message("ask-2@example.com", in_reply_to="ask-1@example.com")

    second = _ingest(store, followup, grouping="thread")

    assert second[0].new_ticket is False
    assert _acknowledge(store, second) == []
    assert len(store.outbox()) == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            raw_message(
                "auto-1@example.com", extra_headers="Auto-Submitted: auto-replied\r\n"
            ),
            "automatic reply",
        ),
        (
            raw_message("vacation@example.com", extra_headers="Precedence: bulk\r\n"),
            "automatic reply",
        ),
        (BOUNCE, "bounce"),
        (
            raw_message(
                "list-1@example.com", extra_headers="List-Id: <users.example.com>\r\n"
            ),
            "mailing list",
        ),
        (
            raw_message(
                "suppress-1@example.com",
                extra_headers="X-Auto-Response-Suppress: OOF, AutoReply\r\n",
            ),
            "X-Auto-Response-Suppress",
        ),
        (
            raw_message("noreply-1@example.com", sender="Shop <no-reply@example.com>"),
            "does not take replies",
        ),
    ],
    ids=["auto-submitted", "precedence-bulk", "bounce", "list", "suppress", "no-reply"],
)
def test_no_acknowledgement_for_automatic_mail(
    store: TicketStore, raw: bytes, reason: str
) -> None:
    results = _ingest(store, raw)

    reasons = _acknowledge(store, results)

    assert store.outbox() == []
    assert len(reasons) == 1
    assert reason in reasons[0]


def test_no_acknowledgement_to_own_address(store: TicketStore) -> None:
    raw = raw_message("own-1@shop.example", sender="Shop Help <help@shop.example>")
    results = _ingest(store, raw)

    reasons = _acknowledge(store, results)

    assert store.outbox() == []
    assert reasons == ["help@shop.example is one of our own addresses"]


def test_no_acknowledgement_to_reply_to_own_address(store: TicketStore) -> None:
    raw = raw_message(
        "loop-1@example.com", extra_headers="Reply-To: help@shop.example\r\n"
    )
    results = _ingest(store, raw)

    reasons = _acknowledge(store, results)

    assert store.outbox() == []
    assert reasons == ["help@shop.example is one of our own addresses"]


def test_channel_without_acknowledgements_is_skipped(store: TicketStore) -> None:
    results = _ingest(store, raw_message("ask-1@example.com"), channel="quiet")

    assert _acknowledge(store, results) == []
    assert store.outbox() == []


def test_old_imported_message_is_skipped(store: TicketStore) -> None:
    results = _ingest(store, raw_message("ask-1@example.com"))

    reasons = _acknowledge(store, results, now=NOW + timedelta(days=3))

    assert store.outbox() == []
    assert "older than a day" in reasons[0]


def test_rate_limit_per_address_and_hour(store: TicketStore) -> None:
    raws = [
        raw_message(f"ask-{n}@example.com", subject=f"Question {n}", minutes=n)
        for n in range(MAX_PER_HOUR + 2)
    ]
    results = _ingest(store, *raws)

    reasons = _acknowledge(store, results)

    assert reasons[:MAX_PER_HOUR] == ["queued"] * MAX_PER_HOUR
    assert all("within an hour" in reason for reason in reasons[MAX_PER_HOUR:])
    assert len(store.outbox()) == MAX_PER_HOUR


def test_rate_limit_is_per_address(store: TicketStore) -> None:
    raws = [
        raw_message(f"ask-{n}@example.com", subject=f"Question {n}", minutes=n)
        for n in range(MAX_PER_HOUR)
    ]
    _acknowledge(store, _ingest(store, *raws))
    other = raw_message("bob-1@example.com", sender="Bob <bob@example.com>")

    assert _acknowledge(store, _ingest(store, other)) == ["queued"]


def test_rate_limit_window_ends_after_an_hour(store: TicketStore) -> None:
    raws = [
        raw_message(f"ask-{n}@example.com", subject=f"Question {n}", minutes=n)
        for n in range(MAX_PER_HOUR)
    ]
    _acknowledge(store, _ingest(store, *raws))
    later = raw_message("ask-late@example.com", subject="Another one", minutes=100)
    results = _ingest(store, later)

    assert _acknowledge(store, results, now=NOW + timedelta(minutes=30)) != ["queued"]
    assert _acknowledge(store, results, now=NOW + timedelta(minutes=61)) == ["queued"]


def test_change_log_acknowledger_sees_new_tickets(store: TicketStore) -> None:
    watcher = ChangeLogAcknowledger(store, CONFIG, KEY)
    _ingest(store, raw_message("ask-1@example.com"))
    _ingest(store, raw_message("bob-1@example.com", sender="bob@example.com"))

    decisions = watcher.acknowledge(now=NOW)

    assert [d.reason for d in decisions] == ["queued", "queued"]
    assert watcher.acknowledge(now=NOW) == []
    assert sorted(i.rcpt_to[0] for i in store.outbox()) == [
        "ann@example.com",
        "bob@example.com",
    ]


def test_change_log_skips_operator_tickets(store: TicketStore) -> None:
    watcher = ChangeLogAcknowledger(store, CONFIG, KEY)
    store.open_ticket(
        "support", customer_addr="ann@example.com", subject="Hello", who="alice"
    )

    assert watcher.acknowledge(now=datetime.now(UTC)) == []
    assert store.outbox() == []
