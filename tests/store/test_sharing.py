"""One engine and many consoles on one store: the engine lock and change polling."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sagicc_tui.paths import resolve_paths
from sagicc_tui.store import (
    ChangeKind,
    ChannelStateName,
    TicketStore,
    acquire_engine_lock,
)
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.store.lock import engine_lock_path
from tests.store.mail import StepClock, raw_message

HOLD_LOCK = textwrap.dedent(
    """
    import sys
    from sagicc_tui.store import acquire_engine_lock
    lock = acquire_engine_lock()
    print("held" if lock else "busy", flush=True)
    sys.stdin.readline()
    """
)


def start_holder() -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_engine_lock_held_by_one_process() -> None:
    resolve_paths().data_dir.mkdir(parents=True, exist_ok=True)
    child = start_holder()
    try:
        assert acquire_engine_lock() is None
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)

    # The lock goes with the process that held it.
    lock = acquire_engine_lock()
    assert lock is not None
    lock.release()


def test_engine_lock_released_when_holder_dies() -> None:
    child = start_holder()
    child.kill()
    child.wait(timeout=30)

    lock = acquire_engine_lock()
    assert lock is not None
    lock.release()


def test_engine_lock_one_holder_per_process() -> None:
    first = acquire_engine_lock()
    assert first is not None
    try:
        assert acquire_engine_lock() is None
        lock_file = engine_lock_path(resolve_paths().store_file)
        assert lock_file.read_text().strip().isdigit()
    finally:
        first.release()
    with acquire_engine_lock() as again:  # type: ignore[union-attr]
        assert again.held
    assert not again.held


def test_console_sees_engine_changes(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    clock = StepClock()
    engine = TicketStore.open(path, clock=clock)
    console = TicketStore.open(path, clock=clock)
    try:
        start = console.change_counter()
        results = ingest(engine, IngestParams(channel="support"), [raw_message("a@x")])
        ticket_id = results[0].ticket_id

        assert console.change_counter() > start
        changes = console.changes_since(start)
        assert [c.kind for c in changes] == [
            ChangeKind.TICKET_NEW,
            ChangeKind.MESSAGE_NEW,
        ]
        assert all(c.ticket_id == ticket_id for c in changes)
        assert console.count_tickets() == 1

        # The console's action reaches the engine the same way.
        seen = engine.change_counter()
        console.close_ticket(ticket_id, "alice")  # type: ignore[arg-type]
        assert [c.kind for c in engine.changes_since(seen)] == [
            ChangeKind.TICKET_UPDATED
        ]
        assert engine.get_ticket(ticket_id).status == "closed"  # type: ignore[arg-type, union-attr]

        seen = console.change_counter()
        engine.set_channel_state("support", ChannelStateName.SYNCING, progress=(5, 10))
        assert [c.kind for c in console.changes_since(seen)] == [
            ChangeKind.CHANNEL_STATE
        ]
        (state,) = console.channel_states()
        assert (state.channel, state.state, state.progress) == (
            "support",
            "syncing",
            (5, 10),
        )
    finally:
        engine.close()
        console.close()


def test_console_reads_while_engine_writes(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    engine = TicketStore.open(path)
    console = TicketStore.open(path)
    try:
        ingest(engine, IngestParams(channel="support"), [raw_message("a@x")])
        with engine.write_transaction():
            ingest(
                engine,
                IngestParams(channel="support"),
                [raw_message("b@x", sender="b@example.com")],
            )
            # WAL: the console reads the last commit while the engine writes.
            assert console.count_tickets() == 1
        assert console.count_tickets() == 2
    finally:
        engine.close()
        console.close()


def test_channel_state_fields(store: TicketStore, clock: StepClock) -> None:
    until = clock.now.replace(hour=23)
    store.set_channel_state(
        "support", "backing-off", detail="connection reset", until=until, error="EOF"
    )
    (state,) = store.channel_states()
    assert state.state == ChannelStateName.BACKING_OFF
    assert state.until == until
    assert state.error == "EOF"
    assert state.progress is None
    assert state.updated_at == clock.now


def test_channel_state_invalid_rejected(store: TicketStore) -> None:
    with pytest.raises(ValueError, match="invalid channel state 'sleeping'.*idle"):
        store.set_channel_state("support", "sleeping")
    with pytest.raises(ValueError, match="invalid progress"):
        store.set_channel_state("support", "syncing", progress=(11, 10))


def test_prune_changes_keeps_sequence(store: TicketStore) -> None:
    for n in range(5):
        store.set_channel_state("support", "idle", detail=str(n))
    newest = store.change_counter()
    assert store.prune_changes(keep_last=2) == 3
    assert [c.seq for c in store.changes_since(0)] == [newest - 1, newest]
    store.set_channel_state("support", "idle")
    assert store.change_counter() == newest + 1


ENGINE_PROCESS = textwrap.dedent(
    """
    import sys
    from sagicc_tui.store import TicketStore
    from sagicc_tui.store.ingest import IngestParams, ingest
    from tests.store.mail import raw_message

    store = TicketStore.open(sys.argv[1])
    for line in sys.stdin:
        params = IngestParams(channel="support", grouping="customer")
        ingest(store, params, [raw_message(line.strip())])
        print("stored", flush=True)
    """
)


def test_console_polls_engine_process(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    console = TicketStore.open(path)
    engine = subprocess.Popen(
        [sys.executable, "-c", ENGINE_PROCESS, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert engine.stdin is not None and engine.stdout is not None
    try:
        seen = console.change_counter()
        for number in range(3):
            engine.stdin.write(f"m{number}@x\n")
            engine.stdin.flush()
            assert engine.stdout.readline().strip() == "stored"

            assert console.change_counter() > seen
            new = console.changes_since(seen)
            seen = new[-1].seq
            assert new[-1].kind == ChangeKind.MESSAGE_NEW
        assert console.count_tickets() == 1
        messages = console.ticket_messages(console.list_tickets()[0].id)
        assert [m.message_id for m in messages] == ["m0@x", "m1@x", "m2@x"]
    finally:
        engine.stdin.close()
        engine.wait(timeout=30)
        console.close()


def test_renamed_channel_keeps_tickets_and_cursor(store: TicketStore) -> None:
    from sagicc_tui.store import IngestItem
    from sagicc_tui.store.ingest import IngestCursor

    old = IngestParams(channel="support", folder="INBOX")
    ingest(
        store,
        old,
        [IngestItem(raw_message("a@x"), uid=1)],
        cursor=IngestCursor("INBOX", 5, 1),
    )

    assert store.rename_channel("support", "helpdesk", "alice") is True

    new = IngestParams(channel="helpdesk", folder="INBOX")
    again = ingest(store, new, [IngestItem(raw_message("a@x"), uid=1)])
    assert again[0].action == "duplicate"
    assert store.get_cursor("helpdesk", "INBOX").last_uid == 1  # type: ignore[union-attr]
    assert store.get_cursor("support", "INBOX") is None
    assert [t.channel for t in store.list_tickets()] == ["helpdesk"]
    assert store.rename_channel("support", "other", "alice") is False


def test_rename_onto_existing_channel_rejected(store: TicketStore) -> None:
    ingest(store, IngestParams(channel="support"), [raw_message("a@x")])
    ingest(store, IngestParams(channel="sales"), [raw_message("b@x")])

    with pytest.raises(ValueError, match="already has a channel 'sales'"):
        store.rename_channel("support", "sales", "alice")
    assert {name for name, _kind in store.channels()} == {"support", "sales"}


def test_threads_share_one_store(store: TicketStore) -> None:
    import threading

    params = IngestParams(channel="support", grouping="none")
    errors: list[BaseException] = []
    done = threading.Event()

    def engine() -> None:
        try:
            for batch in range(10):
                messages = [raw_message(f"{batch}-{n}@x", minutes=n) for n in range(10)]
                ingest(store, params, messages)
        except BaseException as error:  # reported by the assert below
            errors.append(error)
        finally:
            done.set()

    def console() -> None:
        try:
            while not done.is_set():
                for ticket in store.list_tickets(None, 0, 5):
                    store.close_ticket(ticket.id, "alice")
                store.count_tickets()
                store.changes_since(0, limit=50)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=engine), threading.Thread(target=console)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert store.count_tickets() == 100


def test_two_writers_wait_for_each_other(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "store.sqlite3"
    TicketStore.open(path).close()
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            with TicketStore.open(path) as own:
                params = IngestParams(channel=name, grouping="none")
                for n in range(20):
                    ingest(own, params, [raw_message(f"{name}{n}@x")])
        except BaseException as error:  # reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with TicketStore.open(path) as check:
        assert check.count_tickets() == 40
        numbers = [t.number for t in check.list_tickets(None, 0, 100)]
        assert sorted(numbers) == list(range(1, 41))
