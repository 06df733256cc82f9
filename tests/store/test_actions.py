"""Operator actions: close, reopen, split and merge, each in the audit log."""

from __future__ import annotations

import pytest

from sagicc_tui.store import (
    TicketActionError,
    TicketFilter,
    TicketNotFoundError,
    TicketStatus,
    TicketStore,
)
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.tickets.index import Action
from tests.store.mail import StepClock, raw_message


def two_message_ticket(store: TicketStore, params: IngestParams) -> tuple[int, int]:
    """Store a message and a reply; return (ticket id, reply's row id)."""
    results = ingest(
        store,
        params,
        [
            raw_message("a@x"),
            raw_message(
                "b@x", subject="Also the scanner", in_reply_to="a@x", minutes=5
            ),
        ],
    )
    assert results[1].ticket_id == results[0].ticket_id
    return results[0].ticket_id, results[1].message_row_id  # type: ignore[return-value]


def test_close_and_reopen_audited(
    store: TicketStore, params: IngestParams, clock: StepClock
) -> None:
    ticket_id, _ = two_message_ticket(store, params)
    closed = store.close_ticket(ticket_id, "alice")
    closed_time = clock.now
    clock.advance(minutes=5)
    reopened = store.reopen_ticket(ticket_id, "bob")

    assert closed.status == TicketStatus.CLOSED
    assert closed.closed_at == closed_time
    assert reopened.status == TicketStatus.OPEN
    assert reopened.closed_at is None
    events = store.ticket_events(ticket_id)
    assert [(e.who, e.action) for e in events] == [
        ("alice", "close"),
        ("bob", "reopen"),
    ]
    assert events[1].at == clock.now


def test_close_twice_logs_once(store: TicketStore, params: IngestParams) -> None:
    ticket_id, _ = two_message_ticket(store, params)
    store.close_ticket(ticket_id, "alice")
    store.close_ticket(ticket_id, "alice")
    assert len(store.ticket_events(ticket_id)) == 1


def test_unknown_ticket_rejected(store: TicketStore) -> None:
    with pytest.raises(TicketNotFoundError, match="ticket id 42"):
        store.close_ticket(42, "alice")


def test_split_moves_message_and_its_replies(
    store: TicketStore, params: IngestParams
) -> None:
    ticket_id, reply_row = two_message_ticket(store, params)
    new_ticket = store.split_message(reply_row, "alice")

    assert new_ticket.id != ticket_id
    assert new_ticket.linked_ticket_id == ticket_id
    assert new_ticket.subject == "Also the scanner"
    assert new_ticket.message_count == 1
    assert store.get_ticket(ticket_id).message_count == 1  # type: ignore[union-attr]
    assert [m.id for m in store.ticket_messages(new_ticket.id)] == [reply_row]
    event = store.ticket_events(new_ticket.id)[-1]
    assert (event.who, event.action, event.ticket_id, event.other_ticket_id) == (
        "alice",
        "split",
        ticket_id,
        new_ticket.id,
    )
    assert event.message_row_id == reply_row

    # A later reply to the split message follows it into the new ticket.
    results = ingest(store, params, [raw_message("c@x", in_reply_to="b@x", minutes=9)])
    assert results[0].ticket_id == new_ticket.id


def test_split_only_message_rejected(store: TicketStore, params: IngestParams) -> None:
    results = ingest(store, params, [raw_message("a@x")])
    with pytest.raises(TicketActionError, match="only message"):
        store.split_message(results[0].message_row_id, "alice")  # type: ignore[arg-type]


def test_merge_moves_messages_and_hides_source(
    store: TicketStore, params: IngestParams
) -> None:
    first = ingest(store, params, [raw_message("a@x", sender="ann@example.com")])
    second = ingest(
        store, params, [raw_message("z@x", sender="zoe@example.com", minutes=3)]
    )
    source, target = second[0].ticket_id, first[0].ticket_id
    assert source is not None and target is not None

    merged = store.merge_tickets(source, target, "alice")

    assert merged.id == target
    assert merged.message_count == 2
    assert store.count_tickets() == 1
    assert [t.id for t in store.list_tickets()] == [target]
    old = store.get_ticket(source)
    assert old is not None
    assert old.merged_into_id == target
    assert old.status == TicketStatus.CLOSED
    event = store.ticket_events(target)[-1]
    assert (event.who, event.action, event.ticket_id, event.other_ticket_id) == (
        "alice",
        "merge",
        source,
        target,
    )

    # Replies to the source's message now land in the target.
    results = ingest(
        store,
        params,
        [raw_message("y@x", sender="zoe@example.com", in_reply_to="z@x", minutes=9)],
    )
    assert results[0].ticket_id == target
    with pytest.raises(TicketActionError, match="merged into"):
        store.close_ticket(source, "alice")


def test_merge_follows_chains(store: TicketStore, params: IngestParams) -> None:
    ids = [
        ingest(store, params, [raw_message(f"{n}@x", sender=f"{n}@example.com")])[
            0
        ].ticket_id
        for n in ("a", "b", "c")
    ]
    store.merge_tickets(ids[0], ids[1], "alice")  # type: ignore[arg-type]
    store.merge_tickets(ids[1], ids[2], "alice")  # type: ignore[arg-type]

    assert store.get_ticket(ids[0]).merged_into_id == ids[2]  # type: ignore[union-attr]
    assert store.get_ticket(ids[2]).message_count == 3  # type: ignore[union-attr]


def test_merge_rejects_other_channel_and_self(
    store: TicketStore, params: IngestParams
) -> None:
    support_ticket = ingest(store, params, [raw_message("a@x")])[0].ticket_id
    sales_ticket = ingest(store, IngestParams(channel="sales"), [raw_message("b@x")])[
        0
    ].ticket_id

    with pytest.raises(TicketActionError, match="one channel"):
        store.merge_tickets(support_ticket, sales_ticket, "alice")  # type: ignore[arg-type]
    with pytest.raises(TicketActionError, match="itself"):
        store.merge_tickets(support_ticket, support_ticket, "alice")  # type: ignore[arg-type]


def test_open_ticket_for_new_conversation(store: TicketStore) -> None:
    ticket = store.open_ticket(
        "support",
        customer_addr="New@Example.com",
        customer_name="New Customer",
        subject="Your order",
        who="alice",
        tag_prefix="ACME",
    )
    assert ticket.customer_addr == "new@example.com"
    assert ticket.tag == f"[ACME#{ticket.number}]"
    assert ticket.message_count == 0
    assert store.count_tickets(TicketFilter(channel="support")) == 1
    with pytest.raises(ValueError, match="invalid customer address"):
        store.open_ticket("support", customer_addr="nobody", subject="x", who="alice")


def test_reopen_after_window_opens_linked_ticket(
    store: TicketStore, clock: StepClock
) -> None:
    params = IngestParams(channel="support", reopen_window_days=14)
    first = ingest(store, params, [raw_message("a@x")])
    old_id = first[0].ticket_id
    store.close_ticket(old_id, "alice")  # type: ignore[arg-type]
    clock.advance(days=30)

    results = ingest(store, params, [raw_message("b@x", in_reply_to="a@x", minutes=1)])

    assert results[0].action == Action.OPENED_LINKED
    new = store.get_ticket(results[0].ticket_id)  # type: ignore[arg-type]
    assert new is not None
    assert new.linked_ticket_id == old_id
    assert store.get_ticket(old_id).status == TicketStatus.CLOSED  # type: ignore[arg-type, union-attr]


def test_split_our_reply_keeps_customer(
    store: TicketStore, params: IngestParams
) -> None:
    from tests.store.mail import queue_to_ann

    first = ingest(store, params, [raw_message("a@x")])
    ticket_id = first[0].ticket_id
    reply = raw_message(
        "r@shop.example",
        sender="Support <help@shop.example>",
        to="Ann Customer <Ann@Example.com>",
        subject="About your invoice",
        minutes=5,
    )
    item = queue_to_ann(store, reply, ticket_id)

    new_ticket = store.split_message(item.message_row_id, "alice")  # type: ignore[arg-type]

    assert new_ticket.customer_addr == "ann@example.com"
    assert new_ticket.customer_name == "Ann Customer"
    assert new_ticket.subject == "About your invoice"
    assert [i.ticket_id for i in store.outbox()] == [new_ticket.id]
