"""Strangers cannot borrow a ticket's tag, subject or our signed Message-IDs."""

from __future__ import annotations

from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord
from sagicc_tui.tickets import Action, Link
from tests.tickets.helpers import group_records, load

# The Message-ID of our signed reply in the own_copy fixtures.
OUR_REPLY_ID = "sagicc.1.i2reply.axokhmp2br3mq3awulkgakchli@help.example.com"


def stranger_message(subject: str, message_id: str, extra: str = "") -> MessageRecord:
    raw = (
        "From: Eve <eve@evil.example>\r\n"
        "To: help@help.example.com\r\n"
        f"Subject: {subject}\r\n"
        "Date: Wed, 13 Mar 2024 10:00:00 +0000\r\n"
        f"Message-ID: <{message_id}>\r\n"
        f"{extra}"
        "\r\n"
        "Please read this.\r\n"
    )
    return parse_message(raw.encode())


def test_replayed_signed_id_not_our_own() -> None:
    question = load("own_copy", "01-question")
    replayed = stranger_message("Hello", OUR_REPLY_ID)

    grouped = group_records([("question", question), ("eve", replayed)], "thread")

    eve = grouped.assignments["eve"]
    assert not eve.outbound
    assert eve.link != Link.OWN_MESSAGE_ID
    assert eve.action == Action.OPENED
    assert grouped.ticket_numbers["eve"] != 1


def test_signed_copy_from_our_address_joins() -> None:
    question = load("own_copy", "01-question")
    copy = load("own_copy", "02-cc-copy-of-our-reply")

    grouped = group_records([("question", question), ("copy", copy)], "thread")

    assert grouped.assignments["copy"].link == Link.OWN_MESSAGE_ID
    assert grouped.assignments["copy"].outbound
    assert grouped.ticket_numbers["copy"] == 1


def test_stranger_quoting_tag_opens_ticket() -> None:
    question = load("own_copy", "01-question")
    tagged = stranger_message("Re: Password reset [#1]", "eve1@evil.example")
    fullwidth = stranger_message("Re: Password reset ［＃１］", "eve2@evil.example")

    grouped = group_records(
        [("question", question), ("tag", tagged), ("fullwidth", fullwidth)],
        "thread",
    )

    assert grouped.ticket_numbers["tag"] != 1
    assert "not a participant" in grouped.assignments["tag"].reason
    assert grouped.ticket_numbers["fullwidth"] != 1


def test_forged_signature_not_trusted() -> None:
    question = load("own_copy", "01-question")
    forged_id = OUR_REPLY_ID.replace("i2reply", "i3reply")
    forged = stranger_message(
        "Re: Password reset", "eve3@evil.example", f"In-Reply-To: <{forged_id}>\r\n"
    )

    grouped = group_records([("question", question), ("forged", forged)], "thread")

    assert grouped.ticket_numbers["forged"] != 1
