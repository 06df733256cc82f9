"""Replies carry threading headers and never let a value break a header."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import getaddresses
from pathlib import Path

import pytest

from sagicc_tui.engine.compose import (
    ComposeError,
    Sender,
    build_new_message,
    build_reply,
    extend_thread_index,
    quote_body,
    reply_subject,
    trim_references,
)
from sagicc_tui.mail.record import Address, MessageRecord

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SENDER = Sender("support@acme.test", "ACME Support", "Kind regards\nACME")


def customer_message(**changes: object) -> MessageRecord:
    fields: dict[str, object] = {
        "raw": b"",
        "message_id": "m2@customer.test",
        "date": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        "subject": "Re: Printer broken [#7]",
        "from_addr": Address("Ann Customer", "ann@customer.test"),
        "to": [Address("", "support@acme.test"), Address("Bob", "bob@customer.test")],
        "cc": [Address("Carol", "carol@customer.test")],
        "in_reply_to": ["m1@acme.test"],
        "references": ["m0@customer.test", "m1@acme.test"],
        "body_text": "It is still broken.\n\nAnn",
    }
    fields.update(changes)
    return MessageRecord(**fields)  # type: ignore[arg-type]


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def test_reply_threads_to_original() -> None:
    composed = build_reply(
        customer_message(),
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="We are on it.",
        message_id="sagicc.7.abc@acme.test",
        now=NOW,
    )
    parsed = parse(composed.as_bytes())

    assert parsed["In-Reply-To"] == "<m2@customer.test>"
    assert parsed["References"].split() == [
        "<m0@customer.test>",
        "<m1@acme.test>",
        "<m2@customer.test>",
    ]
    assert parsed["Message-ID"] == "<sagicc.7.abc@acme.test>"
    assert parsed["Subject"] == "Re: Printer broken [#7]"
    assert parsed["From"] == "ACME Support <support@acme.test>"
    assert composed.recipients == ["ann@customer.test"]
    assert parsed["Cc"] is None


def test_reply_body_has_signature() -> None:
    composed = build_reply(
        customer_message(),
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="We are on it.",
        message_id="x@acme.test",
        now=NOW,
    )
    # The message is in SMTP form, so its lines end in CRLF.
    body = parse(composed.as_bytes()).get_content().replace("\r\n", "\n")
    assert body == "We are on it.\n\n-- \nKind regards\nACME\n"


def test_reply_goes_to_reply_to_when_present() -> None:
    original = customer_message(reply_to=[Address("", "tickets@customer.test")])
    composed = build_reply(
        original,
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="ok",
        message_id="x@acme.test",
    )
    assert composed.recipients == ["tickets@customer.test"]


def test_reply_all_copies_others_not_us() -> None:
    composed = build_reply(
        customer_message(),
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="ok",
        message_id="x@acme.test",
        reply_all=True,
    )
    parsed = parse(composed.as_bytes())
    cc = [addr for _, addr in getaddresses([parsed["Cc"]])]
    assert cc == ["bob@customer.test", "carol@customer.test"]
    assert "support@acme.test" not in composed.recipients


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer broken", "Re: Printer broken [#7]"),
        ("Re: Printer broken", "Re: Printer broken [#7]"),
        ("RE: re: Printer broken [#7]", "Re: Printer broken [#7]"),
        ("", "Re: [#7]"),
    ],
)
def test_reply_subject_has_one_prefix_and_tag(subject: str, expected: str) -> None:
    assert reply_subject(subject, "[#7]") == expected


def test_trim_references_keeps_root_and_parents() -> None:
    ids = [f"id{n:04d}@example.test" for n in range(200)]
    trimmed = trim_references(ids)
    assert trimmed[0] == ids[0]
    assert trimmed[-1] == ids[-1]
    assert trimmed[-2] == ids[-2]
    assert len(" ".join(f"<{i}>" for i in trimmed)) < 1000


def test_trim_references_leaves_short_chain() -> None:
    ids = ["a@x", "b@x", "c@x"]
    assert trim_references(ids) == ids


def test_display_name_cannot_add_recipient() -> None:
    original = customer_message(
        from_addr=Address("Eve, <mallory@evil.test>", "eve@customer.test")
    )
    composed = build_reply(
        original,
        sender=SENDER,
        ticket_subject="x",
        tag="[#1]",
        body="ok",
        message_id="x@acme.test",
    )
    parsed = parse(composed.as_bytes())
    assert [a for _, a in getaddresses([parsed["To"]])] == ["eve@customer.test"]
    assert composed.recipients == ["eve@customer.test"]


@pytest.mark.parametrize(
    "subject", ["Hello\r\nBcc: victim@evil.test", "Hello\nBcc: x@y", "a\rb"]
)
def test_line_break_in_subject_rejected(subject: str) -> None:
    with pytest.raises(ComposeError, match="line break"):
        build_new_message(
            sender=SENDER,
            to=[Address("", "ann@customer.test")],
            subject=subject,
            body="hi",
            message_id="x@acme.test",
        )


def test_line_break_in_sender_name_rejected() -> None:
    sender = Sender("support@acme.test", "ACME\r\nBcc: x@evil.test")
    with pytest.raises(ComposeError, match="sender name"):
        build_new_message(
            sender=sender,
            to=[Address("", "ann@customer.test")],
            subject="hi",
            body="hi",
            message_id="x@acme.test",
        )


def test_invalid_recipient_named_in_error() -> None:
    with pytest.raises(ComposeError, match="'not-an-address'"):
        build_new_message(
            sender=SENDER,
            to=[Address("", "not-an-address")],
            subject="hi",
            body="hi",
            message_id="x@acme.test",
        )


def test_attachment_is_added(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 test")
    composed = build_new_message(
        sender=SENDER,
        to=[Address("", "ann@customer.test")],
        subject="Report",
        body="attached",
        message_id="x@acme.test",
        attachments=[path],
    )
    parts = list(parse(composed.as_bytes()).iter_attachments())
    assert [p.get_filename() for p in parts] == ["report.pdf"]
    assert parts[0].get_content_type() == "application/pdf"
    assert parts[0].get_content() == b"%PDF-1.4 test"


def test_missing_attachment_named_in_error(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match="missing.txt"):
        build_new_message(
            sender=SENDER,
            to=[Address("", "ann@customer.test")],
            subject="Report",
            body="attached",
            message_id="x@acme.test",
            attachments=[tmp_path / "missing.txt"],
        )


def test_thread_index_extended_by_one_block() -> None:
    root = bytes([0x01, 0xDB, 0x46, 0x00, 0x00, 0x00]) + bytes(range(16))
    child = extend_thread_index(root, NOW)
    assert len(child) == 27
    assert child[:22] == root
    grandchild = extend_thread_index(child, NOW)
    assert grandchild[:27] == child


def test_reply_echoes_thread_index_and_topic() -> None:
    root = bytes([0x01, 0xDB, 0x46, 0x00, 0x00, 0x00]) + bytes(range(16))
    original = customer_message(thread_index=root, thread_topic="Printer broken")
    composed = build_reply(
        original,
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="ok",
        message_id="x@acme.test",
        now=NOW,
    )
    parsed = parse(composed.as_bytes())
    index = base64.b64decode(parsed["Thread-Index"])
    assert index[:22] == root
    assert len(index) == 27
    assert parsed["Thread-Topic"] == "Printer broken"


def test_quote_body_prefixes_lines() -> None:
    quoted = quote_body(customer_message())
    assert "Ann Customer <ann@customer.test> wrote:" in quoted
    assert "> It is still broken." in quoted
    assert "\n>\n" in quoted


def test_references_fall_back_to_in_reply_to() -> None:
    original = customer_message(references=[], in_reply_to=["m1@acme.test"])
    composed = build_reply(
        original,
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="ok",
        message_id="x@acme.test",
    )
    parsed = parse(composed.as_bytes())
    assert parsed["References"].split() == ["<m1@acme.test>", "<m2@customer.test>"]


def test_long_message_id_not_folded() -> None:
    long_id = "sagicc.7." + "a" * 90 + "@acme.test"
    composed = build_reply(
        customer_message(),
        sender=SENDER,
        ticket_subject="Printer broken",
        tag="[#7]",
        body="ok",
        message_id=long_id,
    )
    header_lines = composed.as_bytes().split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert f"Message-ID: <{long_id}>".encode() in header_lines


def test_forward_attaches_original_whole() -> None:
    original = (
        b"From: Ann <ann@customer.test>\r\nSubject: Report\r\n"
        b"Message-ID: <orig-1@customer.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--XX\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=a.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--XX--\r\n"
    )
    composed = build_new_message(
        sender=SENDER,
        to=[Address("", "vendor@example.test")],
        subject="Fwd: Report [#3]",
        body="Please check.",
        message_id="x@acme.test",
        forwarded=original,
    )
    parsed = parse(composed.as_bytes())
    (attached,) = list(parsed.iter_attachments())
    assert attached.get_content_type() == "message/rfc822"
    inner = attached.get_content()
    assert inner["Message-ID"] == "<orig-1@customer.test>"
    assert [p.get_filename() for p in inner.iter_attachments()] == ["a.pdf"]
