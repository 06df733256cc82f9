"""Grouping rules over hand-written fixtures, each mode's tickets written by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sagicc_tui.mail.record import Address, MessageRecord
from sagicc_tui.tickets import Action, Assignment, Link, MemoryTicketIndex, assign
from tests.tickets.helpers import (
    FIXTURE_KEY,
    OWN_ADDRESSES,
    group_folder,
    group_records,
    load,
)

EXPECTED_TICKETS = [
    # Thread chain: our reply and the customer's answer follow the headers,
    # a colleague's forward follows the attached original's Message-ID.
    (
        "chain",
        "thread",
        {
            1: [
                "01-question",
                "02-our-reply",
                "03-customer-answer",
                "04-colleague-forward",
            ],
            2: ["05-other-customer"],
        },
    ),
    (
        "chain",
        "customer",
        {
            1: ["01-question", "02-our-reply", "03-customer-answer"],
            2: ["04-colleague-forward"],
            3: ["05-other-customer"],
        },
    ),
    (
        "chain",
        "subject",
        {
            1: ["01-question", "02-our-reply", "03-customer-answer"],
            2: ["04-colleague-forward"],
            3: ["05-other-customer"],
        },
    ),
    (
        "chain",
        "none",
        {
            1: ["01-question"],
            2: ["02-our-reply"],
            3: ["03-customer-answer"],
            4: ["04-colleague-forward"],
            5: ["05-other-customer"],
        },
    ),
    # The reply arrives before its parent; a stranger's References still join.
    (
        "reply_first",
        "thread",
        {1: ["01-reply", "02-parent", "03-stranger-reference"]},
    ),
    (
        "reply_first",
        "customer",
        {1: ["01-reply", "02-parent"], 2: ["03-stranger-reference"]},
    ),
    (
        "reply_first",
        "subject",
        {1: ["01-reply", "02-parent"], 2: ["03-stranger-reference"]},
    ),
    # Thread-Index: an extension joins whoever sends, a bare root only from
    # the sender who used it before.
    (
        "thread_index",
        "thread",
        {
            1: [
                "01-outlook-new",
                "02-colleague-reply-no-refs",
                "04-same-sender-bare-root",
            ],
            2: ["03-stranger-bare-root"],
        },
    ),
    (
        "thread_index",
        "customer",
        {
            1: ["01-outlook-new", "04-same-sender-bare-root"],
            2: ["02-colleague-reply-no-refs"],
            3: ["03-stranger-bare-root"],
        },
    ),
    # Tags: a participant's tag joins, a stranger's does not; a forged
    # signed id is ignored, an authentic one joins whoever sends it.
    (
        "tags",
        "thread",
        {
            1: ["01-question", "02-participant-tag", "05-reply-to-signed-id"],
            2: ["03-stranger-tag"],
            3: ["04-forged-signed-id"],
        },
    ),
    (
        "tags",
        "customer",
        {
            1: ["01-question"],
            2: ["02-participant-tag"],
            3: ["03-stranger-tag", "04-forged-signed-id"],
            4: ["05-reply-to-signed-id"],
        },
    ),
    # A reply prefix without any threading header joins a participant's
    # ticket with that subject; with an unknown In-Reply-To it does not.
    (
        "prefix",
        "thread",
        {
            1: ["01-question", "02-prefix-no-headers"],
            2: ["03-stranger-prefix"],
            3: ["04-no-prefix"],
            4: ["05-prefix-unknown-parent"],
        },
    ),
    (
        "prefix",
        "subject",
        {
            1: [
                "01-question",
                "02-prefix-no-headers",
                "04-no-prefix",
                "05-prefix-unknown-parent",
            ],
            2: ["03-stranger-prefix"],
        },
    ),
    # List tags are not part of the subject; list mail is not automatic.
    (
        "list",
        "subject",
        {1: ["01-list-post", "02-list-followup"]},
    ),
    (
        "list",
        "thread",
        {1: ["01-list-post"], 2: ["02-list-followup"]},
    ),
    # Automatic mail opens its own ticket in mode none.
    (
        "auto",
        "none",
        {
            1: ["01-question"],
            2: ["02-our-reply"],
            3: ["03-out-of-office"],
            4: ["04-bounce"],
            5: ["05-unlinked-auto-reply"],
        },
    ),
]


@pytest.mark.parametrize(
    ("folder", "mode", "expected"),
    EXPECTED_TICKETS,
    ids=[f"{folder}-{mode}" for folder, mode, _ in EXPECTED_TICKETS],
)
def test_fixture_tickets_per_mode(
    folder: str, mode: str, expected: dict[int, list[str]]
) -> None:
    grouped = group_folder(folder, mode)

    assert grouped.tickets() == expected


def test_every_assignment_has_reason() -> None:
    for folder, mode, _ in EXPECTED_TICKETS:
        grouped = group_folder(folder, mode)
        for name, assignment in grouped.assignments.items():
            assert assignment.reason.strip(), f"{folder}/{name} in {mode}"


def test_thread_reasons_name_header() -> None:
    grouped = group_folder("chain", "thread")
    reasons = {name: a.reason for name, a in grouped.assignments.items()}
    links = {name: a.link for name, a in grouped.assignments.items()}

    assert links["02-our-reply"] == Link.IN_REPLY_TO
    assert "In-Reply-To <a1@customer.example>" in reasons["02-our-reply"]
    assert "ticket #1" in reasons["02-our-reply"]
    assert links["04-colleague-forward"] == Link.FORWARDED
    assert "<a1@customer.example>" in reasons["04-colleague-forward"]
    assert grouped.assignments["05-other-customer"].action == Action.OPENED


def test_our_reply_is_outbound() -> None:
    grouped = group_folder("chain", "thread")

    assert grouped.assignments["02-our-reply"].outbound
    assert not grouped.assignments["03-customer-answer"].outbound


def test_outbound_customer_is_recipient() -> None:
    grouped = group_folder("chain", "none")

    assert grouped.assignments["02-our-reply"].customer == "alice@customer.example"


def test_reply_before_parent_reason() -> None:
    grouped = group_folder("reply_first", "thread")
    parent = grouped.assignments["02-parent"]

    assert parent.action == Action.JOINED
    assert parent.link == Link.REPLIED_BY
    assert "<d-parent@customer.example>" in parent.reason


def test_thread_index_links() -> None:
    grouped = group_folder("thread_index", "thread")
    extension = grouped.assignments["02-colleague-reply-no-refs"]
    stranger = grouped.assignments["03-stranger-bare-root"]
    resend = grouped.assignments["04-same-sender-bare-root"]

    assert extension.link == Link.THREAD_INDEX
    assert "extends conversation" in extension.reason
    assert stranger.action == Action.OPENED
    assert stranger.link == Link.NONE
    assert resend.link == Link.THREAD_INDEX
    assert "frank@outlook-customer.example" in resend.reason


def test_tag_links_and_signed_ids() -> None:
    grouped = group_folder("tags", "thread")
    participant = grouped.assignments["02-participant-tag"]
    stranger = grouped.assignments["03-stranger-tag"]
    forged = grouped.assignments["04-forged-signed-id"]
    signed = grouped.assignments["05-reply-to-signed-id"]

    assert participant.link == Link.TAG
    assert "[#1]" in participant.reason
    assert "heidi@customer.example" in participant.reason
    assert stranger.action == Action.OPENED
    assert "tag [#1] ignored" in stranger.reason
    assert "mallory@attacker.example" in stranger.reason
    assert forged.action == Action.OPENED
    assert signed.link == Link.IN_REPLY_TO
    assert "signed Message-ID for ticket #1" in signed.reason


def test_signed_ids_need_key() -> None:
    grouped = group_folder("tags", "thread", message_id_key=None)

    # Without the key the signed id is not trusted, and Ivan's tag is weak.
    assert grouped.ticket_numbers["05-reply-to-signed-id"] == 4


def test_subject_prefix_link() -> None:
    grouped = group_folder("prefix", "thread")
    joined = grouped.assignments["02-prefix-no-headers"]
    stranger = grouped.assignments["03-stranger-prefix"]

    assert joined.link == Link.SUBJECT_PREFIX
    assert "judy@customer.example" in joined.reason
    assert stranger.action == Action.OPENED


def test_tag_prefix_option() -> None:
    records = [
        ("question", load("tags", "01-question")),
        ("tagged", load("tags", "02-participant-tag")),
    ]
    grouped = group_records(records, "thread", tag_prefix="ACME")

    # "[#1]" is not our tag when the administrator set the prefix ACME.
    assert grouped.tickets() == {1: ["question"], 2: ["tagged"]}


def test_list_mail_is_normal() -> None:
    record = load("list", "02-list-followup")
    grouped = group_folder("list", "subject")

    assert record.is_list
    assert grouped.assignments["02-list-followup"].subject_key == "release plan"


def close_and_continue(
    folder: str,
    first: list[str],
    then: str,
    mode: str,
    days_after_close: float,
    **options: object,
) -> tuple[MemoryTicketIndex, Assignment, int | None]:
    """Group ``first``, close ticket 1, then group ``then`` some days later."""
    records = [(name, load(folder, name)) for name in first]
    grouped = group_records(records, mode, **options)
    closed_at = records[-1][1].date + timedelta(minutes=1)
    grouped.index.close(1, closed_at)

    later = closed_at + timedelta(days=days_after_close)
    result = group_records(
        [(then, load(folder, then))], mode, grouped.index, now=later, **options
    )
    return grouped.index, result.assignments[then], result.ticket_numbers[then]


@pytest.mark.parametrize("mode", ["thread", "customer", "subject"])
def test_closed_ticket_reopens_inside_window(mode: str) -> None:
    index, assignment, number = close_and_continue(
        "chain", ["01-question", "02-our-reply"], "03-customer-answer", mode, 3
    )

    assert assignment.action == Action.REOPENED
    assert number == 1
    assert index.ticket_by_number(1).is_open
    assert "within the 14-day reopen window" in assignment.reason


@pytest.mark.parametrize("mode", ["thread", "customer", "subject"])
def test_closed_ticket_links_outside_window(mode: str) -> None:
    index, assignment, number = close_and_continue(
        "chain", ["01-question", "02-our-reply"], "03-customer-answer", mode, 15
    )

    assert assignment.action == Action.OPENED_LINKED
    assert assignment.linked_ticket_id == 1
    assert number == 2
    assert index.linked_ticket_id(2) == 1
    assert not index.ticket_by_number(1).is_open
    assert "outside the 14-day reopen window" in assignment.reason


def test_reopen_window_is_configurable() -> None:
    _, assignment, _ = close_and_continue(
        "chain",
        ["01-question", "02-our-reply"],
        "03-customer-answer",
        "thread",
        15,
        reopen_window_days=30,
    )

    assert assignment.action == Action.REOPENED


def test_zero_window_never_reopens() -> None:
    _, assignment, _ = close_and_continue(
        "chain",
        ["01-question", "02-our-reply"],
        "03-customer-answer",
        "thread",
        0.01,
        reopen_window_days=0,
    )

    assert assignment.action == Action.OPENED_LINKED


@pytest.mark.parametrize("then", ["03-out-of-office", "04-bounce"])
@pytest.mark.parametrize("days", [1, 60])
@pytest.mark.parametrize("mode", ["thread", "customer", "subject"])
def test_automatic_mail_joins_without_reopening(
    then: str, days: int, mode: str
) -> None:
    index, assignment, number = close_and_continue(
        "auto", ["01-question", "02-our-reply"], then, mode, days
    )

    assert assignment.action == Action.JOINED
    assert number == 1
    assert not index.ticket_by_number(1).is_open
    assert "stays closed for automatic mail" in assignment.reason


def test_bounce_joins_returned_ticket() -> None:
    grouped = group_folder("auto", "thread")
    bounce = grouped.assignments["04-bounce"]

    assert bounce.link == Link.RETURNED
    assert "<g-reply@help.example.com>" in bounce.reason
    assert grouped.ticket_numbers["04-bounce"] == 1


def test_unlinked_automatic_mail_opens_ticket() -> None:
    grouped = group_folder("auto", "thread")

    assert grouped.tickets() == {
        1: ["01-question", "02-our-reply", "03-out-of-office", "04-bounce"],
        2: ["05-unlinked-auto-reply"],
    }


@pytest.mark.parametrize("mode", ["none", "customer", "subject", "thread"])
def test_own_copy_duplicate_and_blocked(mode: str) -> None:
    grouped = group_folder("own_copy", mode, blocked=frozenset({"spam.example"}))
    copy = grouped.assignments["02-cc-copy-of-our-reply"]
    duplicate = grouped.assignments["03-duplicate"]
    blocked = grouped.assignments["04-blocked"]

    assert copy.action == Action.JOINED
    assert copy.link == Link.OWN_MESSAGE_ID
    assert copy.outbound
    assert grouped.ticket_numbers["02-cc-copy-of-our-reply"] == 1
    assert duplicate.action == Action.DUPLICATE
    assert duplicate.ticket_id == 1
    assert "already stored" in duplicate.reason
    assert blocked.action == Action.NOT_TICKETED
    assert "spam.example" in blocked.reason
    assert grouped.index.message_ids(1) == [
        "o1@customer.example",
        "sagicc.1.i2reply.axokhmp2br3mq3awulkgakchli@help.example.com",
    ]


def test_own_copy_of_closed_ticket() -> None:
    index, assignment, number = close_and_continue(
        "own_copy", ["01-question"], "02-cc-copy-of-our-reply", "thread", 1
    )

    assert assignment.action == Action.JOINED
    assert number == 1
    assert not index.ticket_by_number(1).is_open


@pytest.mark.parametrize(
    "rule", ["winner@spam.example", "@spam.example", "SPAM.example"]
)
def test_blocked_rule_forms(rule: str) -> None:
    grouped = group_folder("own_copy", "thread", blocked=[rule])

    assert grouped.assignments["04-blocked"].action == Action.NOT_TICKETED


def test_blocked_address_spares_domain() -> None:
    grouped = group_folder("own_copy", "thread", blocked=["other@spam.example"])

    assert grouped.assignments["04-blocked"].action == Action.OPENED


# Synthetic records for rules that need a particular index state.

START = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


def message(
    message_id: str,
    sender: str,
    subject: str = "Question",
    *,
    minutes: int = 0,
    **fields: object,
) -> MessageRecord:
    return MessageRecord(
        raw=b"",
        message_id=message_id,
        date=START + timedelta(minutes=minutes),
        subject=subject,
        from_addr=Address("", sender),
        to=[Address("", "help@help.example.com")],
        **fields,  # type: ignore[arg-type]
    )


def test_most_recent_reference_wins() -> None:
    records = [
        ("old", message("old@x", "alice@x.example", "First", minutes=0)),
        ("new", message("new@x", "bob@x.example", "Second", minutes=10)),
        (
            "both",
            message(
                "both@x",
                "carol@x.example",
                "Re: both",
                minutes=20,
                in_reply_to=["old@x"],
                references=["new@x", "old@x"],
            ),
        ),
    ]
    grouped = group_records(records, "thread")

    assert grouped.ticket_numbers["both"] == 2
    assert "<new@x>" in grouped.assignments["both"].reason


def test_most_recent_customer_ticket_wins() -> None:
    index = MemoryTicketIndex()
    for number, minutes in ((1, 0), (2, 30)):
        record = message(f"m{number}@x", "alice@x.example", minutes=minutes)
        opened = Assignment(
            Action.OPENED, None, "test setup", customer="alice@x.example"
        )
        index.apply(record, opened, now=record.date)

    record = message("m3@x", "alice@x.example", minutes=60)
    assignment = assign(record, "customer", index, now=record.date)

    assert assignment.ticket_id == 2


def test_open_ticket_beats_closed() -> None:
    index = MemoryTicketIndex()
    for number in (1, 2):
        record = message(f"m{number}@x", "alice@x.example", minutes=number)
        opened = Assignment(Action.OPENED, None, "setup", customer="alice@x.example")
        index.apply(record, opened, now=record.date)
    index.close(2, START + timedelta(minutes=5))

    record = message("m3@x", "alice@x.example", minutes=60)
    assignment = assign(record, "customer", index, now=record.date)

    assert assignment.action == Action.JOINED
    assert assignment.ticket_id == 1


def test_missing_sender_opens_ticket() -> None:
    index = MemoryTicketIndex()
    first = MessageRecord(raw=b"", message_id="n1@x", date=START)
    second = MessageRecord(raw=b"", message_id="n2@x", date=START)
    index.apply(first, assign(first, "customer", index, now=START), now=START)

    assignment = assign(second, "customer", index, now=START)

    assert assignment.action == Action.OPENED


def test_loop_to_own_address_not_ticketed() -> None:
    record = message("loop@x", "help@help.example.com")

    assignment = assign(
        record, "thread", MemoryTicketIndex(), now=START, own_addresses=OWN_ADDRESSES
    )

    assert assignment.action == Action.NOT_TICKETED
    assert "mail loop" in assignment.reason


def test_invalid_mode_raises() -> None:
    with pytest.raises(ValueError, match="invalid grouping mode 'threads'"):
        assign(message("x@x", "a@x"), "threads", MemoryTicketIndex(), now=START)


def test_negative_window_raises() -> None:
    with pytest.raises(ValueError, match="reopen window -1"):
        assign(
            message("x@x", "a@x"),
            "thread",
            MemoryTicketIndex(),
            now=START,
            reopen_window_days=-1,
        )


def test_signed_id_key_constant_matches_fixtures() -> None:
    from sagicc_tui.tickets import verify_message_id

    signed = "sagicc.1.d2reply.gkqlrutxusdtqyosn5fozuqy3q@help.example.com"

    assert verify_message_id(signed, FIXTURE_KEY) == 1


def test_signed_copy_without_ticket() -> None:
    records = [("copy", load("own_copy", "02-cc-copy-of-our-reply"))]
    grouped = group_records(records, "thread", own_addresses=frozenset())
    copy = grouped.assignments["copy"]

    # No ticket #1 exists yet, so the copy opens one, still as our message.
    assert copy.action == Action.OPENED
    assert copy.outbound
    assert copy.customer == "mike@customer.example"
