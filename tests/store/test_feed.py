"""The feed: paging order, counts and filters, up to 100,000 tickets."""

from __future__ import annotations

import random

import pytest

from sagicc_tui.store import TicketFilter, TicketStatus, TicketStore
from sagicc_tui.store.ingest import IngestParams, ingest
from tests.store.mail import raw_message

TICKETS = 100_000


def bulk_tickets(store: TicketStore, count: int, seed: int = 5) -> list[tuple]:
    """Insert ``count`` tickets directly; return (id, channel, status, activity).

    Activity times repeat on purpose, so ordering ties are exercised.
    """
    rng = random.Random(seed)
    channels = {name: store.ensure_channel(name) for name in ("support", "sales")}
    rows = []
    expected = []
    for ticket_id in range(1, count + 1):
        channel = "support" if rng.random() < 0.7 else "sales"
        status = "open" if rng.random() < 0.4 else "closed"
        activity = float(rng.randrange(0, count // 3))
        rows.append(
            (
                ticket_id,
                ticket_id,
                channels[channel],
                status,
                f"c{ticket_id}@example.com",
                f"Subject {ticket_id}",
                activity,
                activity,
            )
        )
        expected.append((ticket_id, channel, status, activity))
    with store.write_transaction() as conn:
        conn.executemany(
            "INSERT INTO tickets (id, number, channel_id, status, customer_addr,"
            " subject, created_at, last_activity) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return expected


def feed_order(rows: list[tuple]) -> list[int]:
    return [row[0] for row in sorted(rows, key=lambda r: (-r[3], -r[0]))]


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("feed") / "store.sqlite3"
    store = TicketStore.open(path)
    expected = bulk_tickets(store, TICKETS)
    yield store, expected
    store.close()


def test_hundred_thousand_count(big_store) -> None:
    store, expected = big_store
    assert store.count_tickets() == TICKETS
    assert store.count_tickets(TicketFilter(channel="support")) == sum(
        1 for row in expected if row[1] == "support"
    )
    open_sales = sum(1 for row in expected if row[1] == "sales" and row[2] == "open")
    assert (
        store.count_tickets(TicketFilter(channel="sales", status=TicketStatus.OPEN))
        == open_sales
    )
    assert store.count_tickets(TicketFilter(channel="nonexistent")) == 0


def test_hundred_thousand_counts_per_channel(big_store) -> None:
    store, expected = big_store
    counts = store.ticket_counts()

    assert sum(counts.values()) == TICKETS
    for channel in ("support", "sales"):
        for status in TicketStatus:
            wanted = sum(1 for r in expected if r[1] == channel and r[2] == status)
            assert counts[(channel, status)] == wanted


def test_hundred_thousand_pages_cover_all_in_order(big_store) -> None:
    store, expected = big_store
    seen: list[int] = []
    page = 5_000
    for offset in range(0, TICKETS, page):
        seen.extend(ticket.id for ticket in store.list_tickets(None, offset, page))
    assert len(seen) == TICKETS
    assert seen == feed_order(expected)


def test_hundred_thousand_filtered_pages(big_store) -> None:
    store, expected = big_store
    query = TicketFilter(channel="support", status=TicketStatus.CLOSED)
    wanted = feed_order([r for r in expected if r[1] == "support" and r[2] == "closed"])

    assert store.count_tickets(query) == len(wanted)
    middle = len(wanted) // 2
    page = store.list_tickets(query, middle, 40)
    assert [t.id for t in page] == wanted[middle : middle + 40]
    assert all(t.channel == "support" and t.status == "closed" for t in page)
    assert store.list_tickets(query, len(wanted), 40) == []
    tail = store.list_tickets(query, len(wanted) - 3, 40)
    assert [t.id for t in tail] == wanted[-3:]


def test_feed_shows_newest_activity_first(
    store: TicketStore, params: IngestParams
) -> None:
    ingest(
        store,
        params,
        [
            raw_message("a@x", sender="a@example.com", subject="First", minutes=1),
            raw_message("b@x", sender="b@example.com", subject="Second", minutes=2),
            raw_message("c@x", sender="c@example.com", subject="Third", minutes=3),
        ],
    )
    assert [t.subject for t in store.list_tickets()] == ["Third", "Second", "First"]

    # A reply moves its ticket to the top.
    ingest(
        store,
        params,
        [raw_message("d@x", in_reply_to="a@x", minutes=10, sender="a@example.com")],
    )
    assert [t.subject for t in store.list_tickets()] == ["First", "Third", "Second"]
    assert [t.subject for t in store.list_tickets(offset=1, limit=1)] == ["Third"]


def test_feed_status_filter(store: TicketStore, params: IngestParams) -> None:
    results = ingest(
        store,
        params,
        [
            raw_message("a@x", sender="a@example.com"),
            raw_message("b@x", sender="b@example.com"),
        ],
    )
    store.close_ticket(results[0].ticket_id, "operator")  # type: ignore[arg-type]

    closed = store.list_tickets(TicketFilter(status=TicketStatus.CLOSED))
    assert [t.id for t in closed] == [results[0].ticket_id]
    assert store.count_tickets(TicketFilter(status=TicketStatus.OPEN)) == 1


def test_negative_paging_rejected(store: TicketStore) -> None:
    with pytest.raises(ValueError, match="offset -1"):
        store.list_tickets(None, -1, 10)


def test_search_terms_all_required(store: TicketStore, params: IngestParams) -> None:
    from sagicc_tui.store.bodies import index_pending_bodies

    ingest(
        store,
        params,
        [
            raw_message(
                "a@x", sender="a@example.com", subject="Toner", body="Red toner leaks"
            ),
            raw_message(
                "b@x", sender="b@example.com", subject="Toner", body="Blue toner ok"
            ),
            raw_message(
                "c@x",
                sender="c@example.com",
                subject="注文の配送",
                body="まだ届きません",
            ),
        ],
    )
    index_pending_bodies(store)

    assert {t.customer_addr for t in store.search("toner")} == {
        "a@example.com",
        "b@example.com",
    }
    assert [t.customer_addr for t in store.search("toner leaks")] == ["a@example.com"]
    assert [t.customer_addr for t in store.search("届きま")] == ["c@example.com"]
    # Quotes and FTS5 operators are taken literally, not as query syntax.
    assert store.search('"toner" OR NOT') == []
    # Terms under three characters fall back to subject and customer.
    assert [t.customer_addr for t in store.search("c@")] == ["c@example.com"]
    assert store.count_tickets(TicketFilter(search="TONER", channel="support")) == 2


def test_search_by_ticket_number(store: TicketStore, params: IngestParams) -> None:
    results = ingest(
        store,
        params,
        [
            raw_message(f"{n}@x", sender=f"c{n}@example.com", subject=f"Order {n}00")
            for n in range(1, 4)
        ],
    )
    second = results[1]
    assert second.ticket_number is not None

    found = store.search(f"#{second.ticket_number}")
    assert [t.id for t in found] == [second.ticket_id]
    # A bare number also matches text: "2" is in the subject "Order 200".
    assert {t.id for t in store.search(str(second.ticket_number))} == {second.ticket_id}
    assert store.search("#99") == []
