"""The grouping rules' ``TicketIndex`` lookups, served from the SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from sagicc_tui.store.models import from_epoch
from sagicc_tui.tickets.index import THREAD_ROOT_SIZE, TicketRef, TicketStatus

_REF_COLUMNS = (
    "t.id, t.number, t.status, t.customer_addr, t.normalized_subject,"
    " t.last_activity, t.closed_at"
)


class SqliteTicketIndex:
    """Read-only lookups over one channel, on the caller's connection.

    Ingest uses it inside its write transaction, so messages stored earlier
    in the same batch are visible. A merge moves every message to the
    target, so message lookups land there by themselves. Ticket lookups
    skip merged tickets or follow them to their target.
    """

    def __init__(self, conn: sqlite3.Connection, channel_id: int, channel: str) -> None:
        self._conn = conn
        self._channel_id = channel_id
        self._channel = channel
        # Ticket numbers never change, so ingest reuses the ones looked up here.
        self._numbers: dict[int, int] = {}

    def ticket_number(self, ticket_id: int) -> int:
        """Return the number of ticket ``ticket_id`` (a row id that must exist)."""
        number = self._numbers.get(ticket_id)
        if number is None:
            row = self._conn.execute(
                "SELECT number FROM tickets WHERE id = ?", (ticket_id,)
            ).fetchone()
            number = self._numbers[ticket_id] = int(row[0])
        return number

    def _ref(self, row: tuple[object, ...]) -> TicketRef:
        self._numbers[row[0]] = row[1]  # type: ignore[index, assignment]
        return TicketRef(
            id=row[0],  # type: ignore[arg-type]
            number=row[1],  # type: ignore[arg-type]
            channel=self._channel,
            status=TicketStatus(row[2]),
            customer=row[3],  # type: ignore[arg-type]
            subject_key=row[4],  # type: ignore[arg-type]
            last_activity=from_epoch(row[5]),  # type: ignore[arg-type]
            closed_at=from_epoch(row[6]) if row[2] == "closed" else None,  # type: ignore[arg-type]
        )

    def _refs_for(self, ticket_ids: Iterable[int]) -> list[TicketRef]:
        ids = sorted(set(ticket_ids))
        if not ids:
            return []
        if len(ids) == 1:
            row = self._conn.execute(
                f"SELECT {_REF_COLUMNS} FROM tickets t"
                " WHERE t.id = ? AND t.merged_into_id IS NULL",
                ids,
            ).fetchone()
            return [self._ref(row)] if row else []
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT {_REF_COLUMNS} FROM tickets t WHERE t.id IN ({marks})"
            " AND t.merged_into_id IS NULL ORDER BY t.last_activity DESC, t.id DESC",
            ids,
        ).fetchall()
        return [self._ref(row) for row in rows]

    def contains_message(self, message_id: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM messages WHERE channel_id = ? AND message_id = ?",
            (self._channel_id, message_id),
        ).fetchone()
        return row is not None

    def ticket_of_message(self, message_id: str) -> TicketRef | None:
        row = self._conn.execute(
            f"SELECT {_REF_COLUMNS} FROM messages m"
            " JOIN tickets t ON t.id = m.ticket_id"
            " WHERE m.channel_id = ? AND m.message_id = ?"
            " AND t.merged_into_id IS NULL",
            (self._channel_id, message_id),
        ).fetchone()
        return self._ref(row) if row else None

    def tickets_referencing(self, message_id: str) -> list[TicketRef]:
        rows = self._conn.execute(
            "SELECT m.ticket_id FROM message_refs r JOIN messages m"
            " ON m.id = r.message_row_id"
            " WHERE r.channel_id = ? AND r.ref_id = ? AND m.ticket_id IS NOT NULL",
            (self._channel_id, message_id),
        ).fetchall()
        return self._refs_for(row[0] for row in rows)

    def tickets_with_thread_root(
        self, root: bytes, sender: str | None = None
    ) -> list[TicketRef]:
        if len(root) != THREAD_ROOT_SIZE:
            return []
        sql = (
            "SELECT m.ticket_id FROM thread_roots r JOIN messages m"
            " ON m.id = r.message_row_id"
            " WHERE r.channel_id = ? AND r.root = ? AND m.ticket_id IS NOT NULL"
        )
        params: list[object] = [self._channel_id, root]
        if sender is not None:
            sql += " AND m.from_addr = ?"
            params.append(sender)
        rows = self._conn.execute(sql, params).fetchall()
        return self._refs_for(row[0] for row in rows)

    def latest_customer_ticket(
        self, customer: str, subject_key: str | None = None
    ) -> TicketRef | None:
        sql = (
            f"SELECT {_REF_COLUMNS} FROM tickets t"
            " WHERE t.channel_id = ? AND t.customer_addr = ?"
            " AND t.merged_into_id IS NULL"
        )
        params: list[object] = [self._channel_id, customer]
        if subject_key is not None:
            sql += " AND t.normalized_subject = ?"
            params.append(subject_key)
        sql += (
            " ORDER BY t.status = 'open' DESC, t.last_activity DESC, t.id DESC LIMIT 1"
        )
        row = self._conn.execute(sql, params).fetchone()
        return self._ref(row) if row else None

    def tickets_with_subject(self, subject_key: str) -> list[TicketRef]:
        rows = self._conn.execute(
            f"SELECT {_REF_COLUMNS} FROM tickets t"
            " WHERE t.channel_id = ? AND t.normalized_subject = ?"
            " AND t.merged_into_id IS NULL ORDER BY t.last_activity DESC, t.id DESC",
            (self._channel_id, subject_key),
        ).fetchall()
        return [self._ref(row) for row in rows]

    def ticket_by_number(self, number: int) -> TicketRef | None:
        row = self._conn.execute(
            "SELECT coalesce(merged_into_id, id) FROM tickets"
            " WHERE number = ? AND channel_id = ?",
            (number, self._channel_id),
        ).fetchone()
        if row is None:
            return None
        refs = self._refs_for([row[0]])
        return refs[0] if refs else None

    def participants(self, ticket_id: int) -> frozenset[str]:
        rows = self._conn.execute(
            "SELECT participants FROM messages WHERE ticket_id = ?", (ticket_id,)
        ).fetchall()
        found: set[str] = set()
        for (text,) in rows:
            found.update(text.split())
        return frozenset(found)
