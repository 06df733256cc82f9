"""Schema migrations, pragmas and the store file's permissions."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sagicc_tui.paths import resolve_paths
from sagicc_tui.store import (
    SCHEMA_VERSION,
    SchemaTooNewError,
    StoreOpenError,
    TicketStore,
)
from sagicc_tui.store.base import PAGE_SIZE
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.store.lock import acquire_engine_lock, engine_lock_path
from sagicc_tui.store.schema import MIGRATIONS, migrate, schema_version
from tests.store.mail import raw_message


def table_names(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_open_default_path_under_sagicc_home(sagicc_home: Path) -> None:
    with TicketStore.open() as store:
        assert store.path == resolve_paths().store_file
        assert store.path.is_relative_to(sagicc_home)
        assert store.path.exists()


def test_migrate_from_empty(tmp_path: Path) -> None:
    with TicketStore.open(tmp_path / "store.sqlite3") as store:
        conn = store.connection
        assert schema_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
        assert {
            "channels",
            "tickets",
            "messages",
            "message_raw",
            "message_refs",
            "thread_roots",
            "sync_cursors",
            "changes",
            "outbox",
            "channel_state",
            "events",
            "message_search",
        } <= table_names(conn)


def test_migrate_from_previous_version_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=SCHEMA_VERSION - 1)
    assert schema_version(conn) == SCHEMA_VERSION - 1
    conn.execute("INSERT INTO channels (name) VALUES ('support')")
    conn.execute(
        "INSERT INTO tickets (number, channel_id, status, created_at, last_activity)"
        " VALUES (1, 1, 'open', 0, 0)"
    )
    conn.execute(
        "INSERT INTO outbox (channel_id, ticket_id, message_id, state, mail_from,"
        " rcpt_to, raw, created_at, created_by, updated_at)"
        " VALUES (1, 1, 'r@x', 'queued', 'a@x', '[\"b@x\"]', x'00', 5, 'engine', 5)"
    )
    conn.close()

    with TicketStore.open(path) as store:
        assert schema_version(store.connection) == SCHEMA_VERSION
        assert store.count_tickets() == 1
        store.close_ticket(1, "operator")
        assert [e.action for e in store.ticket_events(1)] == ["close"]
        # The last migration's index serves the old outbox rows.
        assert store.count_outgoing(created_by="engine", recipient="B@x") == 1


def test_migrations_apply_one_by_one(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)
    for version in range(1, SCHEMA_VERSION + 1):
        assert migrate(conn, target=version) == version
        assert schema_version(conn) == version
    conn.close()


def test_failed_migration_leaves_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sagicc_tui.store.schema as schema

    broken = [*MIGRATIONS[:-1], MIGRATIONS[-1] + "\nCREATE TABLE tickets (x);\n"]
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    conn = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)

    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn)

    assert schema_version(conn) == SCHEMA_VERSION - 1
    indexes = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    assert "outbox_by_creator" not in {row[0] for row in indexes}


def test_newer_schema_rejected(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with pytest.raises(SchemaTooNewError, match="upgrade sagicc"):
        TicketStore.open(path)


def test_pragmas(tmp_path: Path) -> None:
    with TicketStore.open(tmp_path / "store.sqlite3") as store:
        conn = store.connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o640), (0o002, 0o660), (0o077, 0o600)]
)
def test_store_files_follow_umask_never_world(
    tmp_path: Path, mask: int, expected: int
) -> None:
    path = tmp_path / "data" / "store.sqlite3"
    with umask(mask), TicketStore.open(path) as store:
        ingest(store, IngestParams(channel="support"), [raw_message("a@x")])
        lock = acquire_engine_lock(store_file=path)
        assert lock is not None
        lock.release()
        files = [
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
            engine_lock_path(path),
        ]
        for file in files:
            assert file.exists(), file
            mode = stat.S_IMODE(file.stat().st_mode)
            assert mode == expected, f"{file.name}: {oct(mode)}"
            assert mode & 0o007 == 0
        folder_mode = stat.S_IMODE(path.parent.stat().st_mode)
        assert folder_mode & 0o007 == 0


def test_existing_file_mode_kept(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    with TicketStore.open(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_in_memory_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with TicketStore.open(":memory:") as store:
        ingest(store, IngestParams(channel="support"), [raw_message("a@x")])
        assert store.count_tickets() == 1
        assert schema_version(store.connection) == SCHEMA_VERSION
    assert list(tmp_path.iterdir()) == []


def test_existing_store_keeps_page_size(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn)
    conn.close()

    with TicketStore.open(path) as store:
        assert store.connection.execute("PRAGMA page_size").fetchone()[0] == 4096
        ingest(store, IngestParams(channel="support"), [raw_message("a@x")])
        assert store.count_tickets() == 1


def test_open_below_a_file_names_path(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")

    with pytest.raises(StoreOpenError, match="cannot open the ticket store .*data"):
        TicketStore.open(blocker / "store.sqlite3")


def test_open_non_database_rejected(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"this is a text file, not SQLite " * 100)

    with pytest.raises(StoreOpenError, match="not a database"):
        TicketStore.open(path)


def test_concurrent_open_migrates_once(tmp_path) -> None:
    import threading

    from sagicc_tui.store import TicketStore

    path = tmp_path / "race.sqlite3"
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        barrier.wait()
        try:
            TicketStore.open(path).close()
        except BaseException as error:  # noqa: BLE001 - collected for the assert
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with TicketStore.open(path) as store:
        assert store.count_tickets() == 0
