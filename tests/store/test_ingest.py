"""Ingest: grouping into tickets, de-duplication, cursors and crash safety."""

from __future__ import annotations

import pickle
import secrets
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sagicc_tui.store import Direction, IngestItem, TicketFilter, TicketStore
from sagicc_tui.store.bodies import index_pending_bodies, pending_body_count
from sagicc_tui.store.ingest import IngestCursor, IngestParams, ingest
from sagicc_tui.tickets.index import Action
from sagicc_tui.tickets.message_id import make_message_id
from tests.store.mail import queue_to_ann, raw_message


def message_count(store: TicketStore) -> int:
    return store.connection.execute("SELECT count(*) FROM messages").fetchone()[0]


def test_reply_joins_ticket_of_parent(store: TicketStore, params: IngestParams) -> None:
    results = ingest(
        store,
        params,
        [
            raw_message("a@x"),
            raw_message(
                "b@x", subject="Re: Printer broken", in_reply_to="a@x", minutes=5
            ),
        ],
    )

    assert [r.action for r in results] == [Action.OPENED, Action.JOINED]
    assert results[0].ticket_id == results[1].ticket_id
    assert store.count_tickets() == 1
    ticket = store.get_ticket(results[0].ticket_id)
    assert ticket is not None
    assert ticket.message_count == 2
    assert ticket.customer_addr == "ann@example.com"
    assert ticket.customer_name == "Ann Customer"
    assert ticket.subject == "Printer broken"
    assert ticket.tag == f"[#{ticket.number}]"
    assert "In-Reply-To" in results[1].reason


def test_reply_stored_before_parent(store: TicketStore, params: IngestParams) -> None:
    first = ingest(store, params, [raw_message("b@x", in_reply_to="a@x", minutes=5)])
    second = ingest(store, params, [raw_message("a@x")])

    assert second[0].action == Action.JOINED
    assert second[0].ticket_id == first[0].ticket_id


def test_same_message_id_stored_once(store: TicketStore, params: IngestParams) -> None:
    results = ingest(store, params, [raw_message("a@x"), raw_message("a@x")])
    again = ingest(store, params, [raw_message("a@x")])

    assert results[1].action == Action.DUPLICATE
    assert results[1].stored is False
    assert results[1].message_row_id == results[0].message_row_id
    assert again[0].action == Action.DUPLICATE
    assert message_count(store) == 1


def test_same_message_id_on_two_channels(
    store: TicketStore, params: IngestParams
) -> None:
    other = IngestParams(channel="sales", folder="INBOX")
    ingest(store, params, [raw_message("a@x")])
    results = ingest(store, other, [raw_message("a@x")])

    assert results[0].stored is True
    assert message_count(store) == 2


def test_uidvalidity_rescan_imports_nothing_twice(
    store: TicketStore, params: IngestParams
) -> None:
    batch = [
        IngestItem(raw_message(f"m{uid}@x", minutes=uid), uid=uid) for uid in (1, 2, 3)
    ]
    ingest(store, params, batch, cursor=IngestCursor("INBOX", 100, 3))

    rescan = [
        IngestItem(raw_message(f"m{uid}@x", minutes=uid), uid=uid + 10)
        for uid in (1, 2, 3)
    ]
    results = ingest(store, params, rescan, cursor=IngestCursor("INBOX", 200, 13))

    assert all(r.action == Action.DUPLICATE for r in results)
    assert message_count(store) == 3
    cursor = store.get_cursor("support", "INBOX")
    assert cursor is not None
    assert (cursor.uidvalidity, cursor.last_uid) == (200, 13)
    uids = store.connection.execute(
        "SELECT uidvalidity, uid FROM messages ORDER BY uid"
    ).fetchall()
    assert uids == [(200, 11), (200, 12), (200, 13)]


def test_crash_mid_batch_loses_and_duplicates_nothing(
    store: TicketStore, params: IngestParams, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sagicc_tui.store.ingest as ingest_module

    ingest(
        store,
        params,
        [IngestItem(raw_message("m1@x"), uid=1)],
        cursor=IngestCursor("INBOX", 7, 1),
    )
    real_insert = ingest_module.insert_message
    calls = 0

    def failing_insert(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("simulated crash between two inserts")
        return real_insert(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module, "insert_message", failing_insert)
    batch = [
        IngestItem(raw_message(f"m{uid}@x", minutes=uid), uid=uid) for uid in (2, 3, 4)
    ]
    with pytest.raises(OSError, match="simulated crash"):
        ingest(store, params, batch, cursor=IngestCursor("INBOX", 7, 4))

    # Nothing of the failed batch is visible, and the cursor did not move.
    assert message_count(store) == 1
    assert store.count_tickets() == 1
    cursor = store.get_cursor("support", "INBOX")
    assert cursor is not None
    assert cursor.last_uid == 1

    # The engine fetches the same UIDs again; each is stored exactly once.
    monkeypatch.setattr(ingest_module, "insert_message", real_insert)
    results = ingest(store, params, batch, cursor=IngestCursor("INBOX", 7, 4))
    assert [r.stored for r in results] == [True, True, True]
    assert message_count(store) == 4
    assert store.get_cursor("support", "INBOX").last_uid == 4  # type: ignore[union-attr]


def test_crash_before_cursor_update_rolls_back_messages(
    store: TicketStore, params: IngestParams, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sagicc_tui.store.ingest as ingest_module

    def failing_cursor(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash before the cursor update")

    monkeypatch.setattr(ingest_module, "write_cursor", failing_cursor)
    with pytest.raises(OSError):
        ingest(
            store,
            params,
            [IngestItem(raw_message("m1@x"), uid=1)],
            cursor=IngestCursor("INBOX", 7, 1),
        )

    assert message_count(store) == 0
    assert store.get_cursor("support", "INBOX") is None


def test_unparseable_message_stored_raw(
    store: TicketStore, params: IngestParams
) -> None:
    garbage = b"\x00\xff\xfe not a mail message at all \x00"
    results = ingest(store, params, [garbage])

    assert results[0].stored is True
    assert "unparseable" in results[0].flags
    stored = store.get_message(results[0].message_row_id)  # type: ignore[arg-type]
    assert stored is not None
    assert stored.raw == garbage
    assert "unparseable" in stored.flags

    # The same bytes again get the same derived id and are not stored twice.
    again = ingest(store, params, [garbage])
    assert again[0].action == Action.DUPLICATE


def test_blocked_sender_stored_without_ticket(store: TicketStore) -> None:
    params = IngestParams(channel="support", blocked=("spam.example",))
    results = ingest(
        store, params, [raw_message("s@x", sender="Spammer <bulk@spam.example>")]
    )

    assert results[0].action == Action.NOT_TICKETED
    assert results[0].ticket_id is None
    assert results[0].stored is True
    assert store.count_tickets() == 0
    assert message_count(store) == 1


def signing_params() -> tuple[bytes, IngestParams]:
    """Return a fresh Message-ID key and parameters that trust it."""
    key = secrets.token_bytes(32)
    params = IngestParams(
        channel="support",
        message_id_key=key,
        own_addresses=frozenset({"help@shop.example"}),
    )
    return key, params


def test_our_signed_reply_threads_answer_back(store: TicketStore) -> None:
    key, params = signing_params()
    first = ingest(store, params, [raw_message("a@x")])
    ticket_id = first[0].ticket_id
    number = first[0].ticket_number
    assert ticket_id is not None and number is not None
    ours = make_message_id("shop.example", number, key)
    reply = raw_message(
        ours,
        sender="Support <help@shop.example>",
        to="Ann Customer <ann@example.com>",
        subject=f"Re: Printer broken [#{number}]",
        in_reply_to="a@x",
        minutes=30,
    )
    queue_to_ann(store, reply, ticket_id)

    # The customer replies to our message only; no other header links it.
    answer = raw_message(
        "c@x", subject="Re: Printer broken", in_reply_to=ours, minutes=60
    )
    results = ingest(store, params, [answer])

    assert results[0].action == Action.JOINED
    assert results[0].ticket_id == ticket_id
    messages = store.ticket_messages(ticket_id)
    assert [m.direction for m in messages] == [
        Direction.IN,
        Direction.OUT,
        Direction.IN,
    ]


def test_sent_copy_of_reply_is_duplicate(store: TicketStore) -> None:
    key, params = signing_params()
    first = ingest(store, params, [raw_message("a@x")])
    ticket_id = first[0].ticket_id
    ours = make_message_id("shop.example", first[0].ticket_number or 1, key)
    reply = raw_message(
        ours, sender="Support <help@shop.example>", to="ann@example.com", minutes=3
    )
    queue_to_ann(store, reply, ticket_id)

    results = ingest(store, params, [reply])

    assert results[0].action == Action.DUPLICATE
    assert message_count(store) == 2


def test_closed_ticket_reopened_by_answer(
    store: TicketStore, params: IngestParams
) -> None:
    first = ingest(store, params, [raw_message("a@x")])
    ticket_id = first[0].ticket_id
    assert ticket_id is not None
    store.close_ticket(ticket_id, "operator")

    results = ingest(store, params, [raw_message("b@x", in_reply_to="a@x", minutes=9)])

    assert results[0].action == Action.REOPENED
    ticket = store.get_ticket(ticket_id)
    assert ticket is not None
    assert ticket.status == "open"
    actions = [(e.who, e.action) for e in store.ticket_events(ticket_id)]
    assert actions == [("operator", "close"), ("engine", "reopen")]


def test_body_pass_indexes_for_search(store: TicketStore, params: IngestParams) -> None:
    ingest(
        store,
        params,
        [
            raw_message("a@x", body="The toner cartridge leaks."),
            raw_message(
                "b@x", sender="bob@example.org", subject="Invoice", body="Paid."
            ),
        ],
    )
    assert pending_body_count(store) == 2
    assert store.search("cartridge") == []

    assert index_pending_bodies(store, limit=1) == 1
    assert index_pending_bodies(store, limit=10) == 1
    assert index_pending_bodies(store) == 0
    assert pending_body_count(store) == 0

    found = store.search("cartridge")
    assert [t.customer_addr for t in found] == ["ann@example.com"]
    assert [t.subject for t in store.search("invoice")] == ["Invoice"]
    assert [t.customer_addr for t in store.search("bob@example")] == ["bob@example.org"]
    message = store.ticket_messages(found[0].id)[0]
    assert message.body_text == "The toner cartridge leaks."
    assert message.body_indexed is True
    assert store.count_tickets(TicketFilter(search="nothing-like-this")) == 0


def test_invalid_grouping_names_channel() -> None:
    with pytest.raises(ValueError, match="'support'.*'threads'"):
        IngestParams(channel="support", grouping="threads")


def test_oversize_kept_headers_then_fetched(store: TicketStore) -> None:
    params = IngestParams(channel="support", max_message_size=1_000)
    full = raw_message("big@x", body="Serial number XK-4711. " + "x" * 5_000)
    headers_only = full.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    results = ingest(store, params, [IngestItem(headers_only, uid=1, size=len(full))])

    row_id = results[0].message_row_id
    assert row_id is not None
    assert "oversize" in results[0].flags
    assert store.get_message(row_id).size == len(full)  # type: ignore[union-attr]
    index_pending_bodies(store)
    assert [t.subject for t in store.search("printer")] == ["Printer broken"]
    assert store.search("XK-4711") == []

    store.store_full_message(row_id, full)
    assert index_pending_bodies(store) == 1
    message = store.get_message(row_id)
    assert message is not None
    assert message.raw == full
    assert "oversize" not in message.flags
    assert message.body_text.startswith("Serial number XK-4711.")
    assert [t.subject for t in store.search("XK-4711")] == ["Printer broken"]


def test_records_parsed_elsewhere_keep_raw(store: TicketStore) -> None:
    from sagicc_tui.store.ingest import parse_headers

    params = IngestParams(channel="support")
    items = [IngestItem(raw_message("a@x"), uid=1), IngestItem(b"\x00garbage", uid=2)]
    records = pickle.loads(pickle.dumps(parse_headers(items, "utf-8", None)))
    assert [record.raw for record in records] == [b"", b""]
    for item, record in zip(items, records, strict=True):
        item.record = record

    results = ingest(store, params, items)

    for item, result in zip(items, results, strict=True):
        stored = store.get_message(result.message_row_id)  # type: ignore[arg-type]
        assert stored is not None
        assert stored.raw == item.raw


def test_reused_message_id_logged(
    store: TicketStore, params: IngestParams, caplog: pytest.LogCaptureFixture
) -> None:
    ingest(store, params, [raw_message("a@x")])
    with caplog.at_level("WARNING", logger="sagicc_tui.store.ingest"):
        results = ingest(
            store, params, [IngestItem(raw_message("a@x", subject="Other"), uid=9)]
        )

    assert results[0].action == Action.DUPLICATE
    assert "Message-ID <a@x> (UID 9) differs" in caplog.text
    assert "kept the stored one" in caplog.text


KILLED_ENGINE = textwrap.dedent(
    """
    import os
    import signal
    import sys

    import sagicc_tui.store.ingest as ingest_module
    from sagicc_tui.store import IngestItem, TicketStore
    from sagicc_tui.store.ingest import IngestCursor, IngestParams, ingest
    from tests.store.mail import raw_message

    real_insert = ingest_module.insert_message
    calls = 0

    def insert_then_die(*args, **kwargs):
        global calls
        calls += 1
        if calls == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_insert(*args, **kwargs)

    ingest_module.insert_message = insert_then_die
    store = TicketStore.open(sys.argv[1])
    batch = [IngestItem(raw_message(f"m{u}@x", minutes=u), uid=u) for u in (2, 3, 4)]
    cursor = IngestCursor("INBOX", 7, 4)
    ingest(store, IngestParams(channel="support"), batch, cursor=cursor)
    """
)


def test_killed_process_mid_batch_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    params = IngestParams(channel="support", folder="INBOX")
    with TicketStore.open(path) as store:
        ingest(
            store,
            params,
            [IngestItem(raw_message("m1@x"), uid=1)],
            cursor=IngestCursor("INBOX", 7, 1),
        )

    child = subprocess.run(
        [sys.executable, "-c", KILLED_ENGINE, str(path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr

    with TicketStore.open(path) as store:
        assert message_count(store) == 1
        assert store.get_cursor("support", "INBOX").last_uid == 1  # type: ignore[union-attr]
        batch = [
            IngestItem(raw_message(f"m{uid}@x", minutes=uid), uid=uid)
            for uid in (2, 3, 4)
        ]
        results = ingest(store, params, batch, cursor=IngestCursor("INBOX", 7, 4))
        assert [r.stored for r in results] == [True, True, True]
        assert message_count(store) == 4
        assert store.get_cursor("support", "INBOX").last_uid == 4  # type: ignore[union-attr]


def test_params_from_channel_settings() -> None:
    from sagicc_tui.settings.models import Grouping, IncomingChannel

    channel = IncomingChannel(
        name="support",
        host="imap.example.com",
        username="help",
        folder="Support/Inbox",
        encoding="koi8-r",
        grouping=Grouping.SUBJECT,
        reopen_window_days=3,
        max_message_size=1_000,
        blocked_senders=("bulk@example.com",),
        blocked_domains=("spam.example",),
    )
    params = IngestParams.from_channel(
        channel, tag_prefix="ACME", own_addresses=["Help@Shop.example"]
    )

    assert params.channel == "support"
    assert params.grouping == "subject"
    assert params.folder == "Support/Inbox"
    assert params.encoding == "koi8-r"
    assert params.reopen_window_days == 3
    assert params.max_message_size == 1_000
    assert params.blocked == ("bulk@example.com", "spam.example")
    assert params.tag_prefix == "ACME"
    assert params.own_addresses == {"help@shop.example"}


def test_ingest_accepts_channel_settings(store: TicketStore) -> None:
    from sagicc_tui.settings.models import IncomingChannel

    channel = IncomingChannel(name="support", host="imap.example.com", username="u")
    results = ingest(store, channel, [raw_message("a@x")])
    assert results[0].stored is True
    assert store.channels() == [("support", "incoming")]


def test_body_pass_bounded_by_bytes(
    store: TicketStore, params: IngestParams, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sagicc_tui.store.bodies as bodies

    ingest(store, params, [raw_message(f"{n}@x", minutes=n) for n in range(5)])
    size = len(raw_message("0@x"))
    monkeypatch.setattr(bodies, "MAX_BATCH_BYTES", 2 * size)

    assert index_pending_bodies(store, limit=100) == 2
    assert pending_body_count(store) == 3
    assert index_pending_bodies(store, limit=100) == 2
    assert index_pending_bodies(store, limit=100) == 1
    assert index_pending_bodies(store, limit=100) == 0


def test_body_pass_in_process_pool(store: TicketStore, params: IngestParams) -> None:
    from concurrent.futures import ProcessPoolExecutor

    messages = [
        raw_message(f"{n}@x", body=f"Order number ZX{n:04d}") for n in range(30)
    ]
    ingest(store, params, messages)

    with ProcessPoolExecutor(2) as pool:
        assert index_pending_bodies(store, limit=20, executor=pool) == 20
        assert index_pending_bodies(store, limit=20, executor=pool) == 10

    assert pending_body_count(store) == 0
    assert len(store.search("ZX0029")) == 1
