"""The SQLite TicketIndex returns what the TicketIndex protocol documents."""

from __future__ import annotations

import base64

from sagicc_tui.store import TicketStore
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.store.ticket_index import SqliteTicketIndex
from sagicc_tui.tickets.index import TicketIndex, TicketStatus
from tests.store.mail import raw_message

ROOT = bytes(range(22))


def thread_index_header(root: bytes, children: int = 0) -> str:
    value = root + b"\x00\x00\x00\x00\x01" * children
    return f"Thread-Index: {base64.b64encode(value).decode()}\r\n"


def index_for(store: TicketStore, channel: str = "support") -> SqliteTicketIndex:
    channel_id = store.ensure_channel(channel)
    return SqliteTicketIndex(store.connection, channel_id, channel)


def test_is_a_ticket_index(store: TicketStore) -> None:
    assert isinstance(index_for(store), TicketIndex)


def test_message_lookups(store: TicketStore, params: IngestParams) -> None:
    results = ingest(
        store,
        params,
        [
            raw_message("b@x", in_reply_to="a@x", references="<root@x> <a@x>"),
        ],
    )
    index = index_for(store)

    assert index.contains_message("b@x")
    assert not index.contains_message("a@x")
    ref = index.ticket_of_message("b@x")
    assert ref is not None
    assert ref.id == results[0].ticket_id
    assert ref.channel == "support"
    assert ref.status == TicketStatus.OPEN
    assert ref.customer == "ann@example.com"
    assert ref.subject_key == "printer broken"
    assert [t.id for t in index.tickets_referencing("a@x")] == [ref.id]
    assert [t.id for t in index.tickets_referencing("root@x")] == [ref.id]
    assert index.tickets_referencing("b@x") == []
    assert index.ticket_of_message("nothing@x") is None


def test_lookups_stay_on_their_channel(
    store: TicketStore, params: IngestParams
) -> None:
    ingest(store, params, [raw_message("a@x")])
    other = index_for(store, "sales")
    assert not other.contains_message("a@x")
    assert other.latest_customer_ticket("ann@example.com") is None


def test_thread_root_with_sender(store: TicketStore, params: IngestParams) -> None:
    results = ingest(
        store, params, [raw_message("a@x", extra_headers=thread_index_header(ROOT, 1))]
    )
    index = index_for(store)

    assert [t.id for t in index.tickets_with_thread_root(ROOT)] == [
        results[0].ticket_id
    ]
    assert len(index.tickets_with_thread_root(ROOT, "ann@example.com")) == 1
    assert index.tickets_with_thread_root(ROOT, "zoe@example.com") == []
    assert index.tickets_with_thread_root(bytes(22)) == []


def test_customer_ticket_prefers_open(store: TicketStore) -> None:
    params = IngestParams(channel="support", grouping="none")
    results = ingest(
        store,
        params,
        [
            raw_message("a@x", subject="Old", minutes=1),
            raw_message("b@x", subject="Newer", minutes=2),
        ],
    )
    old_id, newer_id = (r.ticket_id for r in results)
    store.close_ticket(newer_id, "alice")  # type: ignore[arg-type]
    index = index_for(store)

    latest = index.latest_customer_ticket("ann@example.com")
    assert latest is not None and latest.id == old_id
    store.close_ticket(old_id, "alice")  # type: ignore[arg-type]
    latest = index.latest_customer_ticket("ann@example.com")
    assert latest is not None and latest.id == newer_id
    assert latest.closed_at is not None
    by_subject = index.latest_customer_ticket("ann@example.com", "old")
    assert by_subject is not None and by_subject.id == old_id
    assert [t.id for t in index.tickets_with_subject("newer")] == [newer_id]


def test_number_and_participants_follow_merge(store: TicketStore) -> None:
    params = IngestParams(channel="support", grouping="none")
    results = ingest(
        store,
        params,
        [
            raw_message("a@x", to="help@shop.example, Bea <bea@example.com>"),
            raw_message("z@x", sender="zoe@example.com", minutes=2),
        ],
    )
    first, second = results
    store.merge_tickets(second.ticket_id, first.ticket_id, "alice")  # type: ignore[arg-type]
    index = index_for(store)

    merged = index.ticket_by_number(second.ticket_number)  # type: ignore[arg-type]
    assert merged is not None and merged.id == first.ticket_id
    assert index.participants(first.ticket_id) == {  # type: ignore[arg-type]
        "ann@example.com",
        "bea@example.com",
        "help@shop.example",
        "zoe@example.com",
    }
    assert index.tickets_with_subject("printer broken")[0].id == first.ticket_id
    assert len(index.tickets_with_subject("printer broken")) == 1
    assert index.ticket_by_number(999) is None
