"""Hostile inbound values and odd operator input never break an outgoing header."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest

from sagicc_tui.engine.compose import (
    Composed,
    ComposeError,
    Sender,
    build_new_message,
    build_reply,
)
from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import Address, MessageRecord
from tests.engine.test_compose import customer_message as base_message

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SENDER = Sender("support@acme.test", "ACME Support")
# Characters that end a line for some readers: CR, LF, NEL, the Unicode
# line and paragraph separators, and other C0 and C1 controls.
BREAKS = ["\r", "\n", "\r\n", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x00"]


def customer_message(**changes: object) -> MessageRecord:
    """A customer's message with no Cc, so reply-all adds only what a test sets."""
    defaults: dict[str, object] = {"to": [], "cc": [], "in_reply_to": []}
    return base_message(**{**defaults, **changes})


def reply_to(original: MessageRecord, **options: object) -> Composed:
    return build_reply(
        original,
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="We are on it.",
        message_id="sagicc.7.abc@acme.test",
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def new_message(**changes: object) -> Composed:
    options: dict[str, object] = {
        "sender": SENDER,
        "to": [Address("", "ann@customer.test")],
        "subject": "Hello",
        "body": "Text",
        "message_id": "local.1@acme.test",
        "now": NOW,
    }
    options.update(changes)
    return build_new_message(**options)  # type: ignore[arg-type]


def header_block(composed: Composed) -> bytes:
    return composed.as_bytes().split(b"\r\n\r\n", 1)[0]


def parse(data: bytes) -> EmailMessage:
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def assert_single_line_headers(composed: Composed) -> None:
    block = header_block(composed)
    for line in block.split(b"\r\n"):
        assert b"\r" not in line
        assert b"\n" not in line
        assert b"\x85" not in line
        assert "\u2028".encode() not in line
        assert line[:1] in (b" ", b"\t") or b":" in line, line
    parsed = parse(composed.as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["X-Injected"] is None


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
def test_hostile_thread_topic_still_replies(brk: str) -> None:
    original = customer_message(thread_topic=f"Printer{brk}X-Injected: yes")

    composed = reply_to(original)

    assert_single_line_headers(composed)
    topic = parse(composed.as_bytes())["Thread-Topic"]
    assert topic == "Printer X-Injected: yes"


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
def test_hostile_display_name_still_replies(brk: str) -> None:
    original = customer_message(
        reply_to=[Address(f"Ann{brk}X-Injected: yes", "ann@customer.test")]
    )

    composed = reply_to(original)

    assert_single_line_headers(composed)
    assert composed.recipients == ["ann@customer.test"]
    to = getaddresses([str(parse(composed.as_bytes())["To"])])
    assert [addr for _, addr in to] == ["ann@customer.test"]


def test_hostile_cc_name_adds_no_recipient() -> None:
    original = customer_message(
        cc=[Address("x@evil.test, y@evil.test\r\nBcc: z@evil.test", "c@customer.test")]
    )

    composed = reply_to(original, reply_all=True)

    assert composed.recipients == ["ann@customer.test", "c@customer.test"]
    cc = getaddresses([str(parse(composed.as_bytes())["Cc"])])
    assert [addr for _, addr in cc] == ["c@customer.test"]


@pytest.mark.parametrize(
    "bad_id",
    ["a> <b@evil.test", "a b@evil.test", "<a@evil.test>", "a\r\nX-Injected: yes", ""],
    ids=["angle", "space", "brackets", "crlf", "empty"],
)
def test_malformed_reference_left_out(bad_id: str) -> None:
    original = customer_message(references=["m0@customer.test", bad_id, "m1@acme.test"])

    composed = reply_to(original)

    assert_single_line_headers(composed)
    parsed = parse(composed.as_bytes())
    assert parsed["References"] == (
        "<m0@customer.test> <m1@acme.test> <m2@customer.test>"
    )
    assert parsed["In-Reply-To"] == "<m2@customer.test>"


@pytest.mark.parametrize(
    "bad_id",
    ["a> <b@evil.test", "a b@evil.test", "a\r\nX-Injected: yes", "\u00e9@evil.test"],
    ids=["angle", "space", "crlf", "non-ascii"],
)
def test_malformed_message_id_not_echoed(bad_id: str) -> None:
    original = customer_message(message_id=bad_id)

    composed = reply_to(original)

    assert_single_line_headers(composed)
    parsed = parse(composed.as_bytes())
    assert parsed["In-Reply-To"] is None
    assert parsed["References"] == "<m0@customer.test> <m1@acme.test>"


def test_encoded_thread_topic_from_wire_replies() -> None:
    raw = (
        b"From: Ann <ann@customer.test>\r\n"
        b"To: support@acme.test\r\n"
        b"Subject: Printer\r\n"
        b"Message-ID: <m2@customer.test>\r\n"
        b"Thread-Topic: =?utf-8?q?Printer=E2=80=A8Bcc=3A_z=40evil=2Etest?=\r\n"
        b"Reply-To: =?utf-8?q?Ann=0D=0ABcc=3A?= <ann@customer.test>\r\n"
        b"\r\n"
        b"Hello\r\n"
    )
    original = parse_message(raw, encoding="utf-8", with_body=False)

    composed = reply_to(original)

    assert_single_line_headers(composed)
    assert composed.recipients == ["ann@customer.test"]


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
def test_operator_subject_break_rejected(brk: str) -> None:
    with pytest.raises(ComposeError, match="subject"):
        new_message(subject=f"Hello{brk}X-Injected: yes")


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
def test_sender_name_break_rejected(brk: str) -> None:
    with pytest.raises(ComposeError, match="sender name"):
        new_message(sender=Sender("support@acme.test", f"ACME{brk}X-Injected: yes"))


@pytest.mark.parametrize(
    "address",
    [
        "ann@customer.test,evil",
        "ann@customer.test>evil",
        "ann@customer.test evil@evil.test",
        "ann@cust omer.test",
        "@customer.test",
        "ann@",
        '"a b"@customer.test',
        "ann(comment)@customer.test",
        "ann@customer.test;evil",
        "ann@[127.0.0.1",
        "ann.@customer.test",
        "ann..x@customer.test",
    ],
)
def test_malformed_recipient_rejected(address: str) -> None:
    with pytest.raises(ComposeError, match="not a valid email address"):
        new_message(to=[Address("", address)])


def test_unicode_domain_sent_as_idna() -> None:
    composed = new_message(to=[Address("Jörg", "joerg@bücher.test")])

    assert composed.recipients == ["joerg@xn--bcher-kva.test"]
    to = parse(composed.as_bytes())["To"]
    assert to.addresses[0].addr_spec == "joerg@xn--bcher-kva.test"


def test_unicode_local_part_rejected() -> None:
    with pytest.raises(ComposeError, match="jörg@example.test"):
        new_message(to=[Address("", "jörg@example.test")])


@pytest.mark.parametrize("brk", ["\r\n", "\n", "\u2028", "\x85"], ids=repr)
def test_attachment_name_breaks_replaced(tmp_path: Path, brk: str) -> None:
    path = tmp_path / f"report{brk}X-Injected: yes.txt"
    path.write_text("data")

    composed = new_message(attachments=[path])

    assert_single_line_headers(composed)
    attachment = next(parse(composed.as_bytes()).iter_attachments())
    assert attachment.get_filename() == "report X-Injected: yes.txt"
    assert attachment.get_content() == "data"
    for part in parse(composed.as_bytes()).walk():
        assert part["X-Injected"] is None


def test_oversized_reference_left_out() -> None:
    huge = "a" * 1_200 + "@evil.test"
    original = customer_message(references=[huge, "m1@acme.test"])

    composed = reply_to(original)

    references = parse(composed.as_bytes())["References"]
    assert references == "<m1@acme.test> <m2@customer.test>"
    assert b"=?utf-8?" not in header_block(composed)


def test_oversized_message_id_not_echoed() -> None:
    original = customer_message(message_id="b" * 1_200 + "@evil.test")

    composed = reply_to(original)

    parsed = parse(composed.as_bytes())
    assert parsed["In-Reply-To"] is None
    assert parsed["References"] == "<m0@customer.test> <m1@acme.test>"


@pytest.mark.parametrize("replies", [10, 200, 2_000])
def test_thread_index_stays_one_line(replies: int) -> None:
    parent = bytes(range(22)) + b"\x00\x00\x00\x10\x01" * replies
    original = customer_message(thread_index=parent)

    composed = reply_to(original)

    block = header_block(composed)
    assert b"=?utf-8?" not in block
    value = parse(composed.as_bytes())["Thread-Index"]
    if value is not None:
        decoded = base64.b64decode(value, validate=True)
        assert decoded[:-5] == parent
        assert len(f"Thread-Index: {value}") <= 998


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x07", "\x7f", "\x9b"], ids=repr)
def test_hostile_ticket_subject_still_replies(control: str) -> None:
    composed = build_reply(
        customer_message(),
        sender=SENDER,
        ticket_subject=f"Printer{control}[31m broken",
        tag="[#7]",
        body="We are on it.",
        message_id="sagicc.7.abc@acme.test",
        now=NOW,
    )

    assert parse(composed.as_bytes())["Subject"] == "Re: Printer [31m broken [#7]"
