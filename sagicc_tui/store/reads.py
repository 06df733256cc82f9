"""Queries the consoles run: the feed, one ticket, its messages, search, changes."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from sagicc_tui.store.base import StoreBase
from sagicc_tui.store.models import (
    AuditEvent,
    Change,
    ChangeKind,
    ChannelState,
    ChannelStateName,
    Direction,
    OutboxState,
    StoredMessage,
    Ticket,
    TicketFilter,
    TicketStatus,
    from_epoch,
)

TICKET_COLUMNS = (
    "t.id, t.number, c.name, t.status, t.customer_addr, t.customer_name,"
    " t.subject, t.normalized_subject, t.tag, t.created_at, t.last_activity,"
    " t.closed_at, t.linked_ticket_id, t.merged_into_id, t.message_count"
)
TICKET_FROM = "tickets t JOIN channels c ON c.id = t.channel_id"

MESSAGE_COLUMNS = (
    "m.id, c.name, m.ticket_id, m.message_id, m.direction, m.kind, m.from_addr,"
    " m.from_name, m.to_addrs, m.cc_addrs, m.subject, m.date, m.arrived_at,"
    " m.flags, m.reason, m.folder, m.uid, m.size, m.body_text, m.body_indexed,"
    " m.attachments,"
    " (SELECT o.state FROM outbox o WHERE o.message_row_id = m.id"
    "  ORDER BY o.id DESC LIMIT 1)"
)
MESSAGE_FROM = "messages m JOIN channels c ON c.id = m.channel_id"

# The trigram tokenizer cannot match fewer than three characters.
MIN_SEARCH_TERM = 3
TICKET_NUMBER_SEARCH = re.compile(r"#?([0-9]{1,18})")


def ticket_from_row(row: sqlite3.Row | tuple[Any, ...]) -> Ticket:
    return Ticket(
        id=row[0],
        number=row[1],
        channel=row[2],
        status=TicketStatus(row[3]),
        customer_addr=row[4],
        customer_name=row[5],
        subject=row[6],
        normalized_subject=row[7],
        tag=row[8],
        created_at=from_epoch(row[9]),  # type: ignore[arg-type]
        last_activity=from_epoch(row[10]),  # type: ignore[arg-type]
        closed_at=from_epoch(row[11]),
        linked_ticket_id=row[12],
        merged_into_id=row[13],
        message_count=row[14],
    )


def message_from_row(row: tuple[Any, ...], raw: bytes | None = None) -> StoredMessage:
    return StoredMessage(
        id=row[0],
        channel=row[1],
        ticket_id=row[2],
        message_id=row[3],
        direction=Direction(row[4]),
        kind=row[5],
        from_addr=row[6],
        from_name=row[7],
        to=json.loads(row[8]),
        cc=json.loads(row[9]),
        subject=row[10],
        date=from_epoch(row[11]),  # type: ignore[arg-type]
        arrived_at=from_epoch(row[12]),  # type: ignore[arg-type]
        flags={flag for flag in row[13].split(",") if flag},
        reason=row[14],
        folder=row[15],
        uid=row[16],
        size=row[17],
        body_text=row[18],
        body_indexed=bool(row[19]),
        attachments=json.loads(row[20]),
        outbox_state=OutboxState(row[21]) if row[21] else None,
        raw=raw,
    )


def search_match_expression(text: str) -> tuple[str | None, list[str]]:
    """Split search text into an FTS5 phrase query and the terms too short for it.

    Each term becomes a quoted phrase (quotes doubled), so operators and
    punctuation in the text are matched literally and never parsed as FTS5
    syntax. All terms must match.
    """
    terms = text.split()
    long_terms = [term for term in terms if len(term) >= MIN_SEARCH_TERM]
    short_terms = [term for term in terms if len(term) < MIN_SEARCH_TERM]
    if not long_terms:
        return None, short_terms
    phrases = ['"' + term.replace('"', '""') + '"' for term in long_terms]
    return " ".join(phrases), short_terms


def search_clause(text: str) -> tuple[str, list[Any]]:
    """Build the condition on ticket ``t`` that a feed search adds.

    Every term must occur in a message's subject, sender or body (or, for
    terms too short for the index, in the ticket's subject or customer).
    A search that is only a number, with or without ``#``, also finds the
    ticket with that number.
    """
    clauses: list[str] = []
    params: list[Any] = []
    match, short_terms = search_match_expression(text)
    if match is not None:
        clauses.append(
            "t.id IN (SELECT m.ticket_id FROM message_search s"
            " JOIN messages m ON m.id = s.rowid"
            " WHERE message_search MATCH ?)"
        )
        params.append(match)
    for term in short_terms:
        clauses.append(
            "(t.subject LIKE ? ESCAPE '\\'"
            " OR t.customer_addr LIKE ? ESCAPE '\\'"
            " OR t.customer_name LIKE ? ESCAPE '\\')"
        )
        params.extend([_like_pattern(term)] * 3)
    clause = " AND ".join(clauses)

    number = TICKET_NUMBER_SEARCH.fullmatch(text.strip())
    if number is not None:
        clause = f"(t.number = ? OR ({clause}))"
        params.insert(0, int(number.group(1)))
    return clause, params


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ReadMixin(StoreBase):
    """Read API for consoles; every query reads indexed columns only."""

    def _ticket_where(self, filter: TicketFilter) -> tuple[str, list[Any]] | None:
        """Build the WHERE clause for ``filter``; None when nothing can match."""
        clauses = ["t.merged_into_id IS NULL"]
        params: list[Any] = []

        if filter.channel is not None:
            channel_id = self._find_channel(filter.channel)
            if channel_id is None:
                return None
            clauses.append("t.channel_id = ?")
            params.append(channel_id)

        if filter.status is not None:
            clauses.append("t.status = ?")
            params.append(str(TicketStatus(filter.status)))

        if filter.search and filter.search.strip():
            clause, search_params = search_clause(filter.search)
            clauses.append(clause)
            params.extend(search_params)

        return " AND ".join(clauses), params

    def count_tickets(self, filter: TicketFilter | None = None) -> int:
        """Count the tickets the feed shows for ``filter``."""
        where = self._ticket_where(filter or TicketFilter())
        if where is None:
            return 0
        clause, params = where
        with self._read() as conn:
            row = conn.execute(
                f"SELECT count(*) FROM tickets t WHERE {clause}", params
            ).fetchone()
        return int(row[0])

    def list_tickets(
        self, filter: TicketFilter | None = None, offset: int = 0, limit: int = 50
    ) -> list[Ticket]:
        """Return one page of the feed, most recent activity first.

        Ties on activity are broken by ticket id, newest first, so pages
        never overlap or skip a ticket while nothing changes.
        """
        if offset < 0 or limit < 0:
            raise ValueError(f"offset {offset} and limit {limit} must not be negative")
        where = self._ticket_where(filter or TicketFilter())
        if where is None:
            return []
        clause, params = where
        # The inner query pages over a covering index only, so skipping a
        # deep offset reads no table rows; the outer one loads the page.
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE t.id IN"
                f" (SELECT t.id FROM tickets t WHERE {clause}"
                "  ORDER BY t.last_activity DESC, t.id DESC LIMIT ? OFFSET ?)"
                " ORDER BY t.last_activity DESC, t.id DESC",
                [*params, limit, offset],
            ).fetchall()
        return [ticket_from_row(row) for row in rows]

    def ticket_counts(self) -> dict[tuple[str, TicketStatus], int]:
        """Count the feed's tickets per (channel, status), for a status line."""
        # Without the hint SQLite walks the activity index and reads every
        # ticket row: 150 ms for 100,000 tickets instead of a covering scan.
        with self._read() as conn:
            names = dict(conn.execute("SELECT id, name FROM channels").fetchall())
            rows = conn.execute(
                "SELECT channel_id, status, count(*) FROM tickets"
                " INDEXED BY tickets_by_channel_status"
                " WHERE merged_into_id IS NULL GROUP BY channel_id, status"
            ).fetchall()
        return {
            (names[channel_id], TicketStatus(status)): count
            for channel_id, status, count in rows
        }

    def search(self, text: str, limit: int = 200) -> list[Ticket]:
        """Return tickets whose subject, customer or body contain every term."""
        return self.list_tickets(TicketFilter(search=text), 0, limit)

    def get_ticket(
        self, ticket_id: int | None = None, *, number: int | None = None
    ) -> Ticket | None:
        """Return a ticket by row id or by number; None when it does not exist."""
        if (ticket_id is None) == (number is None):
            raise ValueError("give exactly one of ticket_id and number")
        column, value = (
            ("t.id", ticket_id) if ticket_id is not None else ("t.number", number)
        )
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE {column} = ?",
                (value,),
            ).fetchone()
        return ticket_from_row(row) if row else None

    def ticket_messages(self, ticket_id: int) -> list[StoredMessage]:
        """Return a ticket's messages in conversation order (date, then arrival)."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM}"
                " WHERE m.ticket_id = ? ORDER BY m.date, m.id",
                (ticket_id,),
            ).fetchall()
        return [message_from_row(row) for row in rows]

    def get_message(
        self, message_row_id: int, *, with_raw: bool = True
    ) -> StoredMessage | None:
        """Return one message, with its raw bytes unless ``with_raw`` is false."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.id = ?",
                (message_row_id,),
            ).fetchone()
            if row is None:
                return None
            raw = None
            if with_raw:
                raw_row = conn.execute(
                    "SELECT raw FROM message_raw WHERE message_row_id = ?",
                    (message_row_id,),
                ).fetchone()
                raw = bytes(raw_row[0]) if raw_row else b""
        return message_from_row(row, raw)

    def find_message(self, channel: str, message_id: str) -> StoredMessage | None:
        """Return the message with this Message-ID on ``channel``, if stored."""
        channel_id = self._find_channel(channel)
        if channel_id is None:
            return None
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM}"
                " WHERE m.channel_id = ? AND m.message_id = ?",
                (channel_id, message_id.strip().strip("<>")),
            ).fetchone()
        return message_from_row(row) if row else None

    def ticket_events(self, ticket_id: int) -> list[AuditEvent]:
        """Return a ticket's audit log, oldest first, both sides of merges included."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, at, who, action, ticket_id, other_ticket_id,"
                " message_row_id, detail FROM events"
                " WHERE ticket_id = ? OR other_ticket_id = ?"
                " ORDER BY at, id",
                (ticket_id, ticket_id),
            ).fetchall()
        return [
            AuditEvent(
                id=row[0],
                at=from_epoch(row[1]),  # type: ignore[arg-type]
                who=row[2],
                action=row[3],
                ticket_id=row[4],
                other_ticket_id=row[5],
                message_row_id=row[6],
                detail=row[7],
            )
            for row in rows
        ]

    def channel_states(self) -> list[ChannelState]:
        """Return the engine's last reported state of every channel, by name."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT c.name, s.state, s.detail, s.progress_done, s.progress_total,"
                " s.until, s.error,"
                " s.updated_at FROM channel_state s"
                " JOIN channels c ON c.id = s.channel_id"
                " ORDER BY c.name"
            ).fetchall()
        return [
            ChannelState(
                channel=row[0],
                state=ChannelStateName(row[1]),
                detail=row[2],
                progress=(row[3], row[4]) if row[4] is not None else None,
                until=from_epoch(row[5]),
                error=row[6],
                updated_at=from_epoch(row[7]),  # type: ignore[arg-type]
            )
            for row in rows
        ]

    def change_counter(self) -> int:
        """Return the newest change sequence number (0 for an empty store).

        Consoles poll this one indexed lookup; when it moved, they call
        ``changes_since`` and repaint.
        """
        with self._read() as conn:
            row = conn.execute("SELECT max(seq) FROM changes").fetchone()
        return int(row[0] or 0)

    def changes_since(self, seq: int, limit: int = 10_000) -> list[Change]:
        """Return changes newer than ``seq``, oldest first, at most ``limit``."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT ch.seq, ch.at, ch.kind, c.name, ch.ticket_id, ch.message_row_id"
                " FROM changes ch LEFT JOIN channels c ON c.id = ch.channel_id"
                " WHERE ch.seq > ? ORDER BY ch.seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [
            Change(
                seq=row[0],
                at=from_epoch(row[1]),  # type: ignore[arg-type]
                kind=ChangeKind(row[2]),
                channel=row[3],
                ticket_id=row[4],
                message_row_id=row[5],
            )
            for row in rows
        ]
