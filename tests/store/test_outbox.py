"""The outbox state machine: queued, sending, sent, failed, cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sagicc_tui.store import OutboxItem, OutboxState, OutboxStateError, TicketStore
from sagicc_tui.store.ingest import IngestParams, ingest
from tests.store.mail import StepClock, queue_to_ann, raw_message


def queue_reply(
    store: TicketStore, ticket_id: int | None, message_id: str = "r1@shop.example"
) -> OutboxItem:
    raw = raw_message(
        message_id,
        sender="Support <help@shop.example>",
        to="Ann Customer <ann@example.com>",
        subject="Re: Printer broken [#1]",
        body="We are sending a new printer.",
        in_reply_to="a@x",
    )
    return queue_to_ann(store, raw, ticket_id)


@pytest.fixture
def ticket_id(store: TicketStore, params: IngestParams) -> int:
    results = ingest(store, params, [raw_message("a@x")])
    assert results[0].ticket_id is not None
    return results[0].ticket_id


def test_queue_stores_conversation_copy(store: TicketStore, ticket_id: int) -> None:
    item = queue_reply(store, ticket_id)

    assert item.state == OutboxState.QUEUED
    assert item.message_id == "r1@shop.example"
    assert item.rcpt_to == ["ann@example.com"]
    assert item.created_by == "alice"
    messages = store.ticket_messages(ticket_id)
    assert messages[-1].id == item.message_row_id
    assert messages[-1].direction == "out"
    assert messages[-1].outbox_state == OutboxState.QUEUED
    assert messages[-1].body_text == "We are sending a new printer."
    assert store.get_message(item.message_row_id).raw == item.raw  # type: ignore[arg-type, union-attr]
    assert [e.action for e in store.ticket_events(ticket_id)] == ["reply-queued"]
    assert [i.id for i in store.outbox(ticket_id)] == [item.id]


def test_send_success(store: TicketStore, ticket_id: int, clock: StepClock) -> None:
    item = queue_reply(store, ticket_id)
    claimed = store.claim_outgoing()
    assert [c.id for c in claimed] == [item.id]
    assert claimed[0].state == OutboxState.SENDING
    assert claimed[0].attempts == 1
    assert store.claim_outgoing() == []

    sent = store.mark_sent(item.id)
    assert sent.state == OutboxState.SENT
    assert sent.sent_at == clock.now
    assert store.ticket_messages(ticket_id)[-1].outbox_state == OutboxState.SENT
    with pytest.raises(OutboxStateError, match="is sent"):
        store.cancel_outgoing(item.id, "alice")


def test_failure_retried_at_time(
    store: TicketStore, ticket_id: int, clock: StepClock
) -> None:
    item = queue_reply(store, ticket_id)
    store.claim_outgoing()
    retry_at = clock.now + timedelta(minutes=30)
    failed = store.mark_failed(item.id, "421 try later", retry_at=retry_at)

    assert failed.state == OutboxState.FAILED
    assert failed.last_error == "421 try later"
    assert store.claim_outgoing() == []
    clock.advance(hours=1)
    claimed = store.claim_outgoing()
    assert [c.id for c in claimed] == [item.id]
    assert claimed[0].attempts == 2


def test_permanent_failure_waits_for_operator(
    store: TicketStore, ticket_id: int, clock: StepClock
) -> None:
    item = queue_reply(store, ticket_id)
    store.claim_outgoing()
    store.mark_failed(item.id, "550 no such user")
    clock.advance(days=10)
    assert store.claim_outgoing() == []

    assert store.retry_outgoing(item.id).state == OutboxState.QUEUED
    assert [c.id for c in store.claim_outgoing()] == [item.id]


def test_cancel_queued(store: TicketStore, ticket_id: int) -> None:
    item = queue_reply(store, ticket_id)
    cancelled = store.cancel_outgoing(item.id, "bob")

    assert cancelled.state == OutboxState.CANCELLED
    assert store.claim_outgoing() == []
    assert [(e.who, e.action) for e in store.ticket_events(ticket_id)] == [
        ("alice", "reply-queued"),
        ("bob", "reply-cancelled"),
    ]
    with pytest.raises(OutboxStateError):
        store.retry_outgoing(item.id)


def test_sending_cannot_be_cancelled(store: TicketStore, ticket_id: int) -> None:
    item = queue_reply(store, ticket_id)
    store.claim_outgoing()
    with pytest.raises(OutboxStateError, match="is sending"):
        store.cancel_outgoing(item.id, "bob")
    with pytest.raises(OutboxStateError, match="is queued|is sending"):
        store.retry_outgoing(item.id)


def test_interrupted_sending_requeued(store: TicketStore, ticket_id: int) -> None:
    item = queue_reply(store, ticket_id)
    store.claim_outgoing()

    assert store.requeue_interrupted() == 1
    again = store.claim_outgoing()
    assert [c.id for c in again] == [item.id]
    assert again[0].attempts == 2
    assert "engine stopped" in (again[0].last_error or "")


def test_queue_rejects_bad_input(store: TicketStore, ticket_id: int) -> None:
    with pytest.raises(ValueError, match="no Message-ID"):
        store.queue_outgoing(
            outgoing_channel="smtp",
            raw=raw_message(None),
            mail_from="help@shop.example",
            rcpt_to=["ann@example.com"],
            who="alice",
        )
    with pytest.raises(ValueError, match="no recipients"):
        store.queue_outgoing(
            outgoing_channel="smtp",
            raw=raw_message("x@shop.example"),
            mail_from="help@shop.example",
            rcpt_to=[],
            who="alice",
        )
    queue_reply(store, ticket_id)
    with pytest.raises(ValueError, match="already stored"):
        queue_reply(store, ticket_id)
    assert len(store.outbox()) == 1


def test_outbox_without_ticket(store: TicketStore) -> None:
    item = queue_reply(store, None)
    assert item.ticket_id is None
    assert item.message_row_id is None
    assert [i.id for i in store.outbox(states=[OutboxState.QUEUED])] == [item.id]


def test_filter_and_count_by_creator(
    store: TicketStore, ticket_id: int, clock: StepClock
) -> None:
    first = queue_reply(store, ticket_id, "r1@shop.example")
    clock.advance(hours=2)
    second = queue_reply(store, ticket_id, "r2@shop.example")
    raw = raw_message("ack@shop.example", to="BOB@example.org")
    store.queue_outgoing(
        outgoing_channel="smtp",
        raw=raw,
        mail_from="help@shop.example",
        rcpt_to=["BOB@example.org"],
        who="engine",
    )
    hour_ago = clock.now - timedelta(hours=1)

    assert [i.id for i in store.outbox(created_by="alice")] == [first.id, second.id]
    assert [i.id for i in store.outbox(created_by="alice", since=hour_ago)] == [
        second.id
    ]
    assert store.count_outgoing(created_by="alice", since=hour_ago) == 1
    assert store.count_outgoing(recipient="ann@EXAMPLE.com") == 2
    assert store.count_outgoing(recipient="bob@example.org", created_by="engine") == 1
    assert store.count_outgoing(recipient="bob@example.org", created_by="alice") == 0
