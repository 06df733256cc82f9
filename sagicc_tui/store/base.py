"""Opening the SQLite store: file permissions, pragmas, transactions, change log."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path

from sagicc_tui.store.models import to_epoch, utc_now
from sagicc_tui.store.schema import migrate

# Milliseconds a connection waits for another writer before failing with
# "database is locked". Writers hold the lock for one batch (well under a
# second), so this leaves a wide margin for several consoles and the engine.
BUSY_TIMEOUT_MS = 10_000

# Raw messages are several KiB each, so larger pages mean fewer WAL frames
# per commit. In bench/core_bench.py on a 2 vCPU gVisor sandbox, a commit of
# 200 messages took 11 to 12 ms with 4 KiB pages and 2 to 5 ms with 16 KiB.
PAGE_SIZE = 16_384

# Page cache per connection, in KiB (negative cache_size is KiB in SQLite).
# It bounds memory whatever the number of stored messages.
CACHE_KIB = 16_384

# Mode for files the store creates before the umask is applied: group
# members may read and write, others get nothing. With the common umask 022
# the result is 0640; operators who share SAGICC_HOME set umask 002.
FILE_MODE = 0o660
DIR_MODE = 0o770

# SQLite's name for a private database in memory, for tests and one-off runs.
MEMORY = ":memory:"


def create_private_file(path: Path) -> None:
    """Create ``path`` if missing with FILE_MODE minus the umask, never world-readable.

    SQLite gives its -wal and -shm files the main database file's mode, so
    creating this one first decides the mode of all three.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


class StoreOpenError(RuntimeError):
    """The store file cannot be opened or is not a database (see the message)."""


class StoreBase:
    """One SQLite connection with the store's settings; the mixins add the API.

    A store object may be shared between threads because every call takes
    an internal lock. Writers start with ``BEGIN IMMEDIATE``, so a second
    writer waits up to the busy timeout for the first instead of failing
    halfway through when it upgrades a read to a write.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], datetime] = utc_now,
        migrate_schema: bool = True,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.in_memory = str(path) == MEMORY
        self._lock = threading.RLock()
        self._write_depth = 0
        self._channel_ids: dict[str, int] = {}
        try:
            self._conn = self._connect(migrate_schema)
        except (OSError, sqlite3.DatabaseError) as error:
            raise StoreOpenError(
                f"cannot open the ticket store {self.path}: {error}. Check that "
                "this user may read and write the file, its -wal and -shm files "
                "and its folder; a store shared by several users needs group "
                "write permission (umask 002)"
            ) from error

    def _connect(self, migrate_schema: bool) -> sqlite3.Connection:
        if not self.in_memory:
            create_private_file(self.path)
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        try:
            self._configure(conn)
            if migrate_schema:
                migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Takes effect only while the file is still empty, so older stores
        # keep their page size.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal" and not self.in_memory:
            raise sqlite3.OperationalError(
                f"store {self.path} could not switch to WAL mode (got {mode!r}); "
                "put SAGICC_HOME on a local file system that supports shared memory"
            )
        # NORMAL in WAL mode survives a crash of the program; a power cut may
        # undo the last commits, but cursors roll back with their messages.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection, for tests and one-off maintenance."""
        return self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _now(self, now: datetime | None = None) -> float:
        return to_epoch(now if now is not None else self.clock())

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction; nested blocks join the outer one."""
        with self._lock:
            if self._write_depth:
                self._write_depth += 1
                try:
                    yield self._conn
                finally:
                    self._write_depth -= 1
                return

            self._conn.execute("BEGIN IMMEDIATE")
            self._write_depth = 1
            try:
                yield self._conn
            except BaseException:
                self._write_depth = 0
                self._conn.execute("ROLLBACK")
                # Channel rows created in this transaction are gone again.
                self._channel_ids.clear()
                raise
            self._write_depth = 0
            self._conn.execute("COMMIT")

    def write_transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """Open one write transaction (``BEGIN IMMEDIATE``) for several steps.

        Commits when the block ends, rolls back when it raises. Calls of the
        store's write API inside the block join it.
        """
        return self._write()

    def ensure_channel(self, name: str, kind: str = "incoming") -> int:
        """Return the id of channel ``name``, creating its row when missing."""
        if not name:
            raise ValueError(
                "channel name is empty: give the channel's configured name"
            )
        cached = self._channel_ids.get(name)
        if cached is not None:
            return cached

        with self._write() as conn:
            row = conn.execute(
                "SELECT id FROM channels WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO channels (name, kind) VALUES (?, ?)", (name, kind)
                )
                channel_id = int(cur.lastrowid or 0)
            else:
                channel_id = int(row[0])
        self._channel_ids[name] = channel_id
        return channel_id

    def _find_channel(self, name: str) -> int | None:
        cached = self._channel_ids.get(name)
        if cached is not None:
            return cached
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM channels WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            return None
        self._channel_ids[name] = int(row[0])
        return int(row[0])

    def channels(self) -> list[tuple[str, str]]:
        """Return every known channel as (name, kind), by name."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT name, kind FROM channels ORDER BY name"
            ).fetchall()
        return [(str(name), str(kind)) for name, kind in rows]

    def _record_event(
        self,
        conn: sqlite3.Connection,
        at: float,
        who: str,
        action: str,
        *,
        ticket_id: int | None = None,
        other_ticket_id: int | None = None,
        message_row_id: int | None = None,
        detail: str = "",
    ) -> None:
        conn.execute(
            "INSERT INTO events (at, who, action, ticket_id, other_ticket_id,"
            " message_row_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, who, action, ticket_id, other_ticket_id, message_row_id, detail),
        )
