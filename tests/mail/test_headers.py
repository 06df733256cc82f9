"""Header fields: ids, addresses, dates and thread headers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

from sagicc_tui.mail import RecordFlag, derived_message_id, parse_message
from tests.mail.support import ARRIVAL, fixture_bytes, message, parse_fixture


def test_threaded_reply_fields() -> None:
    record = parse_fixture("threaded-reply.eml")

    assert record.message_id == "reply-2@customer.example"
    assert record.in_reply_to == ["ticket-1@helpdesk.example"]
    assert record.references == ["root-0@customer.example", "ticket-1@helpdesk.example"]
    assert record.subject == "Re: Order 4411 arrived broken"
    assert record.thread_topic == "Order 4411 arrived broken"
    assert record.gm_thrid == "1789301122334455667"
    assert record.flags == set()


def test_threaded_reply_addresses() -> None:
    record = parse_fixture("threaded-reply.eml")

    assert record.from_addr is not None
    assert record.from_addr.name == "Maria Lopez"
    assert record.from_addr.addr == "maria@customer.example"
    assert [a.addr for a in record.reply_to] == ["maria.private@customer.example"]
    assert [(a.name, a.addr) for a in record.to] == [
        ("Support", "support@helpdesk.example"),
        ("", "sales@helpdesk.example"),
    ]
    # The quoted comma stays in the name; the empty group adds no one.
    assert [(a.name, a.addr) for a in record.cc] == [
        ("Doe, John", "john@customer.example")
    ]


def test_thread_index_is_base64_decoded() -> None:
    record = parse_fixture("threaded-reply.eml")

    expected = base64.b64decode("AdmqL3Y1n7sYb8xXQ9yG2m0u1hVbDgAAAAAA")
    assert record.thread_index == expected
    assert len(record.thread_index) == 27


def test_invalid_thread_index_is_flagged() -> None:
    raw = message("Message-ID: <t@x.example>\nThread-Index: not*base64!")
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.thread_index is None
    assert RecordFlag.MALFORMED_HEADER in record.flags


def test_date_converted_to_utc() -> None:
    record = parse_fixture("threaded-reply.eml")

    assert record.date == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert record.date.tzinfo is UTC


def test_crlf_message_keeps_raw_bytes() -> None:
    raw = fixture_bytes("threaded-reply.eml")
    record = parse_message(raw)

    assert b"\r\n" in raw
    assert record.raw == raw
    assert record.size == len(raw)


def test_malformed_references_tolerated() -> None:
    record = parse_fixture("references-malformed.eml")

    # Bare ids, commas, folding, an encoded id, a repeat and inner whitespace.
    assert record.references == [
        "a-1@x.example",
        "a-2@x.example",
        "b-3@x.example",
        "c-4@x.example",
        "d5@x.example",
    ]
    assert record.message_id == "reply-3@customer.example"
    assert record.in_reply_to == ["parent-7@helpdesk.example"]


def test_in_reply_to_comment_is_ignored() -> None:
    raw = message(
        "Message-ID: <m@x.example>\n"
        "In-Reply-To: <p@x.example> (message from Jane <jane@x.example>)"
    )
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.in_reply_to == ["p@x.example"]


def test_long_bare_token_in_references_skipped() -> None:
    # A long token without "@" once took time quadratic in its length.
    raw = message("Message-ID: <m@x.example>\nReferences: " + "a" * 200_000 + " <p@x>")
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.references == ["p@x"]


def test_bare_ids_need_text_around_at_sign() -> None:
    raw = message("Message-ID: <m@x.example>\nReferences: c@d @x x@ y <f g@h>")
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.references == ["c@d", "fg@h"]


def test_message_id_without_at_sign_kept() -> None:
    record = parse_message(message("Message-ID: <20261204.1234>"), arrival=ARRIVAL)

    assert record.message_id == "20261204.1234"
    assert RecordFlag.NO_MESSAGE_ID not in record.flags


def test_missing_message_id_is_stable() -> None:
    raw = fixture_bytes("no-message-id.eml")
    first = parse_message(raw)
    second = parse_message(raw, with_body=False)

    assert first.message_id == second.message_id
    assert first.message_id == derived_message_id(raw)
    assert first.message_id.endswith("@sagicc.invalid")
    assert "<" not in first.message_id
    assert RecordFlag.NO_MESSAGE_ID in first.flags


def test_missing_message_id_differs_per_message() -> None:
    first_message = parse_message(message("From: a@x.example\nSubject: one"))
    second_message = parse_message(message("From: a@x.example\nSubject: two"))

    assert first_message.message_id != second_message.message_id


def test_missing_date_uses_arrival() -> None:
    record = parse_fixture("no-date.eml")

    assert record.date == ARRIVAL
    assert RecordFlag.NO_DATE in record.flags


def test_broken_date_uses_arrival() -> None:
    record = parse_fixture("broken-date.eml")

    assert record.date == ARRIVAL
    assert RecordFlag.NO_DATE in record.flags


def test_naive_arrival_is_read_as_utc() -> None:
    record = parse_message(
        fixture_bytes("no-date.eml"), arrival=datetime(2026, 1, 2, 3, 4)
    )

    assert record.date == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def test_missing_date_without_arrival_is_now() -> None:
    before = datetime.now(UTC)
    record = parse_message(fixture_bytes("no-date.eml"))

    assert record.date >= before
    assert record.date.tzinfo is not None


def test_implausible_dates_rejected() -> None:
    for value in ("Thu, 01 Jan 1970 00:00:00 +0000", "Mon, 31 Feb 2026 10:00:00 +0000"):
        record = parse_message(message(f"Date: {value}"), arrival=ARRIVAL)
        assert RecordFlag.NO_DATE in record.flags, value


def test_date_with_offset_and_no_zone() -> None:
    cases = {
        "Tue, 1 Dec 2026 23:30:00 -0230": datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
        "1 Dec 2026 10:00:00": datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        "Tue, 01 Dec 26 10:00:00 GMT": datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    }
    for value, expected in cases.items():
        record = parse_message(message(f"Date: {value}"), arrival=ARRIVAL)
        assert record.date == expected, value
        assert record.date.utcoffset() == timedelta(0)


def test_arrival_in_other_zone_converted() -> None:
    zone = timezone(timedelta(hours=2))
    arrival = datetime(2026, 12, 4, 17, 0, tzinfo=zone)
    record = parse_message(fixture_bytes("no-date.eml"), arrival=arrival)

    assert record.date == arrival
    assert record.date.utcoffset() == timedelta(0)


def test_address_edge_cases() -> None:
    raw = message(
        "From: MAILER-DAEMON <>\n"
        'To: "Smith \\"Bob\\"" <bob@x.example>, carol@x.example (Carol C),\n'
        " <@relay.example:dave@x.example>, broken name eve@x.example\n"
        "Cc: team: frank@x.example, gina@x.example;,\n"
        " =?utf-8?q?H=C3=A9l=C3=A8ne?= <h@x.example>"
    )
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.from_addr is not None
    assert (record.from_addr.name, record.from_addr.addr) == ("MAILER-DAEMON", "")
    assert [(a.name, a.addr) for a in record.to] == [
        ('Smith "Bob"', "bob@x.example"),
        ("Carol C", "carol@x.example"),
        ("", "dave@x.example"),
        ("broken name", "eve@x.example"),
    ]
    assert [(a.name, a.addr) for a in record.cc] == [
        ("", "frank@x.example"),
        ("", "gina@x.example"),
        ("Hélène", "h@x.example"),
    ]


def test_repeated_to_fields_are_joined() -> None:
    raw = message("To: a@x.example\nTo: b@x.example")
    record = parse_message(raw, arrival=ARRIVAL)

    assert [a.addr for a in record.to] == ["a@x.example", "b@x.example"]


def test_leading_mbox_from_line_skipped() -> None:
    raw = b"From someone@x.example Thu Dec  3 08:00:00 2026\n" + message(
        "Message-ID: <mbox@x.example>\nSubject: hi"
    )
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.message_id == "mbox@x.example"
    assert record.subject == "hi"
    assert RecordFlag.MALFORMED_HEADER not in record.flags


def test_line_without_colon_flagged() -> None:
    raw = message(
        "Message-ID: <c@x.example>\nthis is not a header\nSubject: still read"
    )
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.subject == "still read"
    assert RecordFlag.MALFORMED_HEADER in record.flags


def test_header_block_without_end_is_capped() -> None:
    raw = b"Subject: endless\nX-Filler: " + b"a" * (2 << 20)
    record = parse_message(raw, with_body=False, arrival=ARRIVAL)

    assert record.subject == "endless"
    assert record.size == len(raw)
    assert RecordFlag.MALFORMED_HEADER in record.flags


def test_body_blank_line_not_header_end() -> None:
    # The first empty line ends the headers, whatever line endings follow.
    raw = (
        b"Subject: crlf\r\nMessage-ID: <e@x.example>\r\n\r\n"
        b"body\n\nSubject: body text\n"
    )
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.subject == "crlf"
    assert record.body_text == "body\n\nSubject: body text"


def test_obsolete_space_before_colon() -> None:
    raw = message("From : Old Client <old@x.example>\nSubject : spaced")
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.from_addr is not None
    assert record.from_addr.addr == "old@x.example"
    assert record.subject == "spaced"
