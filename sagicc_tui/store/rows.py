"""Insert and update primitives shared by ingest, the outbox and ticket actions.

Each function runs inside a write transaction that the caller opened.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from sagicc_tui.store.models import ChangeKind, Direction
from sagicc_tui.tickets.index import THREAD_ROOT_SIZE
from sagicc_tui.tickets.tag import format_tag


@dataclass(slots=True)
class NewTicket:
    channel_id: int
    customer_addr: str
    customer_name: str
    subject: str
    normalized_subject: str
    at: float
    tag_prefix: str = ""
    linked_ticket_id: int | None = None
    # When the ticket appears in the change log; ``at`` may be an older
    # message date.
    changed_at: float | None = None


@dataclass(slots=True)
class NewMessage:
    """Every column of one message row, flattened from a parsed record."""

    channel_id: int
    message_id: str
    direction: Direction
    kind: str
    from_addr: str
    from_name: str
    to_addrs: list[str]
    cc_addrs: list[str]
    reply_to: list[str]
    participants: list[str]
    subject: str
    date: float
    arrived_at: float
    in_reply_to: list[str]
    references: list[str]
    thread_index: bytes | None
    flags: list[str]
    raw: bytes
    size: int
    reason: str = ""
    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    body_text: str = ""
    attachments: list[dict[str, object]] = field(default_factory=list)


def _json_list(items: list[object] | list[str] | list[dict[str, object]]) -> str:
    # Most lists are empty; skipping the encoder for them is measurable in ingest.
    return json.dumps(items) if items else "[]"


def insert_ticket(conn: sqlite3.Connection, ticket: NewTicket) -> tuple[int, int]:
    """Insert an open ticket with the next number; return (row id, number)."""
    number = int(
        conn.execute("SELECT coalesce(max(number), 0) + 1 FROM tickets").fetchone()[0]
    )
    cur = conn.execute(
        "INSERT INTO tickets (number, channel_id, status, customer_addr,"
        " customer_name, subject, normalized_subject, tag, created_at,"
        " last_activity, linked_ticket_id)"
        " VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            number,
            ticket.channel_id,
            ticket.customer_addr,
            ticket.customer_name,
            ticket.subject,
            ticket.normalized_subject,
            format_tag(number, ticket.tag_prefix),
            ticket.at,
            ticket.at,
            ticket.linked_ticket_id,
        ),
    )
    ticket_id = int(cur.lastrowid or 0)
    changed_at = ticket.changed_at if ticket.changed_at is not None else ticket.at
    record_change(conn, ChangeKind.TICKET_NEW, changed_at, ticket.channel_id, ticket_id)
    return ticket_id, number


def insert_message(
    conn: sqlite3.Connection, message: NewMessage, ticket_id: int | None
) -> int:
    """Insert a message, its raw bytes and its lookup rows; return the row id.

    The ticket's message count and last activity follow. Raises
    ``sqlite3.IntegrityError`` when the Message-ID already exists on the channel.
    """
    cur = conn.execute(
        "INSERT INTO messages (channel_id, ticket_id, message_id, direction, kind,"
        " from_addr, from_name, to_addrs, cc_addrs, reply_to, participants, subject,"
        " date, arrived_at, in_reply_to, refs, thread_index, flags, reason, folder,"
        " uidvalidity, uid, size, body_text, attachments)"
        f" VALUES ({', '.join('?' * 25)})",
        (
            message.channel_id,
            ticket_id,
            message.message_id,
            str(message.direction),
            message.kind,
            message.from_addr,
            message.from_name,
            _json_list(message.to_addrs),
            _json_list(message.cc_addrs),
            _json_list(message.reply_to),
            " ".join(message.participants),
            message.subject,
            message.date,
            message.arrived_at,
            _json_list(message.in_reply_to),
            _json_list(message.references),
            message.thread_index,
            ",".join(message.flags),
            message.reason,
            message.folder,
            message.uidvalidity,
            message.uid,
            message.size,
            message.body_text,
            _json_list(message.attachments),
        ),
    )
    row_id = int(cur.lastrowid or 0)
    conn.execute(
        "INSERT INTO message_raw (message_row_id, raw) VALUES (?, ?)",
        (row_id, message.raw),
    )

    linked = dict.fromkeys(message.in_reply_to + message.references)
    linked.pop(message.message_id, None)
    if linked:
        conn.executemany(
            "INSERT INTO message_refs (channel_id, ref_id, message_row_id)"
            " VALUES (?, ?, ?)",
            [(message.channel_id, ref, row_id) for ref in linked],
        )
    if message.thread_index and len(message.thread_index) >= THREAD_ROOT_SIZE:
        conn.execute(
            "INSERT INTO thread_roots (channel_id, root, message_row_id)"
            " VALUES (?, ?, ?)",
            (
                message.channel_id,
                message.thread_index[:THREAD_ROOT_SIZE],
                row_id,
            ),
        )

    if ticket_id is not None:
        touch_ticket(conn, ticket_id, min(message.date, message.arrived_at), 1)
    record_change(
        conn,
        ChangeKind.MESSAGE_NEW,
        message.arrived_at,
        message.channel_id,
        ticket_id,
        row_id,
    )
    return row_id


def touch_ticket(
    conn: sqlite3.Connection, ticket_id: int, activity: float, added_messages: int
) -> None:
    conn.execute(
        "UPDATE tickets SET message_count = message_count + ?,"
        " last_activity = max(last_activity, ?) WHERE id = ?",
        (added_messages, activity, ticket_id),
    )


def recount_ticket(conn: sqlite3.Connection, ticket_id: int) -> None:
    """Recompute a ticket's message count and last activity from its messages."""
    conn.execute(
        "UPDATE tickets SET"
        " message_count = (SELECT count(*) FROM messages WHERE ticket_id = :id),"
        " last_activity = coalesce("
        "   (SELECT max(min(date, arrived_at)) FROM messages WHERE ticket_id = :id),"
        "   last_activity)"
        " WHERE id = :id",
        {"id": ticket_id},
    )


def record_change(
    conn: sqlite3.Connection,
    kind: ChangeKind,
    at: float,
    channel_id: int | None = None,
    ticket_id: int | None = None,
    message_row_id: int | None = None,
) -> None:
    conn.execute(
        "INSERT INTO changes (at, kind, channel_id, ticket_id, message_row_id)"
        " VALUES (?, ?, ?, ?, ?)",
        (at, str(kind), channel_id, ticket_id, message_row_id),
    )
