"""Engine records per channel: folder sync cursors and connection state."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from sagicc_tui.store.base import StoreBase
from sagicc_tui.store.models import ChangeKind, ChannelStateName, Cursor, to_epoch
from sagicc_tui.store.rows import record_change


def write_cursor(
    conn: sqlite3.Connection,
    channel_id: int,
    folder: str,
    uidvalidity: int,
    last_uid: int,
    at: float,
) -> None:
    """Upsert a folder cursor inside the caller's transaction."""
    conn.execute(
        "INSERT INTO sync_cursors"
        " (channel_id, folder, uidvalidity, last_uid, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, folder) DO UPDATE SET"
        " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
        " updated_at = excluded.updated_at",
        (channel_id, folder, uidvalidity, last_uid, at),
    )


class SyncStateMixin(StoreBase):
    """Write API for the engine: cursors and the state consoles show."""

    def get_cursor(self, channel: str, folder: str) -> Cursor | None:
        """Return the folder's cursor, or None before its first import."""
        channel_id = self._find_channel(channel)
        if channel_id is None:
            return None
        with self._read() as conn:
            row = conn.execute(
                "SELECT uidvalidity, last_uid FROM sync_cursors"
                " WHERE channel_id = ? AND folder = ?",
                (channel_id, folder),
            ).fetchone()
        if row is None:
            return None
        return Cursor(
            channel=channel, folder=folder, uidvalidity=row[0], last_uid=row[1]
        )

    def set_cursor(
        self,
        channel: str,
        folder: str,
        uidvalidity: int,
        last_uid: int,
        *,
        now: datetime | None = None,
    ) -> None:
        """Record a cursor on its own, e.g. after a UIDVALIDITY change with no new mail.

        When messages come with it, pass the cursor to ``ingest`` instead, so
        both commit together.
        """
        channel_id = self.ensure_channel(channel)
        with self._write() as conn:
            write_cursor(
                conn, channel_id, folder, uidvalidity, last_uid, self._now(now)
            )

    def set_channel_state(
        self,
        channel: str,
        state: ChannelStateName | str,
        *,
        detail: str = "",
        progress: tuple[int, int] | None = None,
        until: datetime | None = None,
        error: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Record the engine's state of one channel for ``channel_states``.

        ``progress`` is (messages done, messages in total) while syncing;
        ``until`` is when a backing-off channel retries; ``error`` is the
        message shown for ``failed`` and ``sign-in-needed``.
        """
        try:
            state = ChannelStateName(state)
        except ValueError:
            valid = ", ".join(name.value for name in ChannelStateName)
            raise ValueError(
                f"invalid channel state {state!r} for {channel!r}: use one of {valid}"
            ) from None
        done, total = progress if progress is not None else (None, None)
        if progress is not None and not 0 <= progress[0] <= progress[1]:
            raise ValueError(
                f"invalid progress {progress}: give (done, total) with "
                "0 <= done <= total"
            )
        channel_id = self.ensure_channel(channel)
        at = self._now(now)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO channel_state (channel_id, state, detail, progress_done,"
                " progress_total, until, error, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (channel_id) DO UPDATE SET state = excluded.state,"
                " detail = excluded.detail, progress_done = excluded.progress_done,"
                " progress_total = excluded.progress_total,"
                " until = excluded.until, error = excluded.error,"
                " updated_at = excluded.updated_at",
                (
                    channel_id,
                    str(state),
                    detail,
                    done,
                    total,
                    to_epoch(until) if until else None,
                    error,
                    at,
                ),
            )
            record_change(conn, ChangeKind.CHANNEL_STATE, at, channel_id)

    def rename_channel(
        self, old_name: str, new_name: str, who: str, *, now: datetime | None = None
    ) -> bool:
        """Rename a channel's rows so its tickets, cursors and outbox follow it.

        Call it when the settings rename a channel: without it the store
        would see a new, empty channel and import the mailbox again.
        Returns False when the store has no channel ``old_name``. Raises
        ``ValueError`` when ``new_name`` already has rows.
        """
        if not new_name:
            raise ValueError(
                "new channel name is empty: give the renamed channel's name"
            )
        at = self._now(now)
        with self._write() as conn:
            row = conn.execute(
                "SELECT id FROM channels WHERE name = ?", (old_name,)
            ).fetchone()
            if row is None:
                return False
            existing = conn.execute(
                "SELECT 1 FROM channels WHERE name = ?", (new_name,)
            ).fetchone()
            if existing is not None:
                raise ValueError(
                    f"cannot rename channel {old_name!r} to {new_name!r}: the store "
                    f"already has a channel {new_name!r}; choose another name"
                )
            conn.execute(
                "UPDATE channels SET name = ? WHERE id = ?", (new_name, row[0])
            )
            self._record_event(
                conn, at, who, "rename-channel", detail=f"{old_name} -> {new_name}"
            )
            record_change(conn, ChangeKind.CHANNEL_STATE, at, row[0])
            self._channel_ids.pop(old_name, None)
        return True

    def store_full_message(
        self, message_row_id: int, raw: bytes, *, now: datetime | None = None
    ) -> None:
        """Replace the headers-only copy of an oversize message with the whole message.

        Used when an operator fetches such a message on purpose. The body
        pass then parses and indexes it like any other message.
        """
        at = self._now(now)
        with self._write() as conn:
            row = conn.execute(
                "SELECT channel_id, ticket_id, flags FROM messages WHERE id = ?",
                (message_row_id,),
            ).fetchone()
            if row is None:
                raise LookupError(f"message id {message_row_id} does not exist")
            channel_id, ticket_id, flags = row
            remaining = [f for f in flags.split(",") if f and f != "oversize"]
            conn.execute(
                "UPDATE message_raw SET raw = ? WHERE message_row_id = ?",
                (raw, message_row_id),
            )
            conn.execute(
                "UPDATE messages SET size = ?, flags = ?, body_indexed = 0"
                " WHERE id = ?",
                (len(raw), ",".join(remaining), message_row_id),
            )
            conn.execute(
                "DELETE FROM message_search WHERE rowid = ?", (message_row_id,)
            )
            record_change(
                conn,
                ChangeKind.TICKET_UPDATED,
                at,
                channel_id,
                ticket_id,
                message_row_id,
            )

    def prune_changes(self, keep_last: int = 100_000) -> int:
        """Delete all but the newest ``keep_last`` change rows; return how many went.

        Consoles that fell further behind reload their view instead of
        replaying changes. The sequence keeps growing after a prune.
        """
        with self._write() as conn:
            newest = int(
                conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
            )
            cur = conn.execute(
                "DELETE FROM changes WHERE seq <= ?", (newest - keep_last,)
            )
        return cur.rowcount
