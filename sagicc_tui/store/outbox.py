"""The outbox: every outgoing message is stored here before the engine sends it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sagicc_tui.mail.record import MessageRecord, RecordFlag
from sagicc_tui.store.base import StoreBase
from sagicc_tui.store.models import (
    ChangeKind,
    Direction,
    OutboxItem,
    OutboxState,
    from_epoch,
    to_epoch,
)
from sagicc_tui.store.records import message_row
from sagicc_tui.store.rows import insert_message, record_change

OUTBOX_COLUMNS = (
    "o.id, c.name, o.ticket_id, o.message_row_id, o.message_id, o.state, o.mail_from,"
    " o.rcpt_to, o.raw, o.attempts, o.next_attempt_at, o.last_error, o.created_at,"
    " o.created_by, o.sent_at"
)
OUTBOX_FROM = "outbox o JOIN channels c ON c.id = o.channel_id"

# States from which each transition is allowed.
_CLAIMABLE = ("queued", "failed")
_CANCELLABLE = ("queued", "failed")


def _parse_outgoing(raw: bytes) -> MessageRecord:
    # Imported here so opening a store does not load the parser.
    from sagicc_tui.mail.parse import parse_message

    record = parse_message(raw, with_body=True)
    if RecordFlag.NO_MESSAGE_ID in record.flags:
        raise ValueError(
            "outgoing message has no Message-ID header: set our signed "
            "Message-ID before queueing it"
        )
    return record


def _outbox_where(
    ticket_id: int | None,
    states: Sequence[OutboxState] | None,
    created_by: str | None,
    since: datetime | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if ticket_id is not None:
        clauses.append("o.ticket_id = ?")
        params.append(ticket_id)
    if states:
        clauses.append(f"o.state IN ({','.join('?' * len(states))})")
        params.extend(str(OutboxState(state)) for state in states)
    if created_by is not None:
        clauses.append("o.created_by = ?")
        params.append(created_by)
    if since is not None:
        clauses.append("o.created_at >= ?")
        params.append(to_epoch(since))
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


class OutboxStateError(ValueError):
    """The outgoing message is not in a state that allows this transition."""


def outbox_from_row(row: tuple[Any, ...]) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        channel=row[1],
        ticket_id=row[2],
        message_row_id=row[3],
        message_id=row[4],
        state=OutboxState(row[5]),
        mail_from=row[6],
        rcpt_to=json.loads(row[7]),
        raw=bytes(row[8]),
        attempts=row[9],
        next_attempt_at=from_epoch(row[10]),
        last_error=row[11],
        created_at=from_epoch(row[12]),  # type: ignore[arg-type]
        created_by=row[13],
        sent_at=from_epoch(row[14]),
    )


class OutboxMixin(StoreBase):
    """Queue (consoles) and claim, mark and retry (engine) outgoing messages."""

    def queue_outgoing(
        self,
        *,
        outgoing_channel: str,
        raw: bytes,
        mail_from: str,
        rcpt_to: Sequence[str],
        who: str,
        ticket_id: int | None = None,
        now: datetime | None = None,
    ) -> OutboxItem:
        """Store an outgoing message as ``queued`` and return it.

        ``raw`` is the complete message with our signed Message-ID. With
        ``ticket_id`` a copy (direction out) joins the ticket's conversation
        on the ticket's channel in the same transaction, so a customer's
        reply threads back even when it arrives before the engine reports
        the message sent. ``mail_from`` and ``rcpt_to`` are the SMTP envelope.
        """
        record = _parse_outgoing(raw)
        if not rcpt_to:
            raise ValueError(
                f"outgoing message <{record.message_id}> has no recipients: "
                "give at least one address in rcpt_to"
            )
        channel_id = self.ensure_channel(outgoing_channel, "outgoing")
        at = self._now(now)

        with self._write() as conn:
            message_row_id = None
            if ticket_id is not None:
                message_row_id = self._store_conversation_copy(
                    conn, record, ticket_id, who, at
                )
            cur = conn.execute(
                "INSERT INTO outbox (channel_id, ticket_id, message_row_id, message_id,"
                " state, mail_from, rcpt_to, raw, next_attempt_at, created_at,"
                " created_by, updated_at)"
                " VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
                (
                    channel_id,
                    ticket_id,
                    message_row_id,
                    record.message_id,
                    mail_from,
                    json.dumps(list(rcpt_to)),
                    raw,
                    at,
                    at,
                    who,
                    at,
                ),
            )
            outbox_id = int(cur.lastrowid or 0)
            record_change(
                conn, ChangeKind.OUTBOX, at, channel_id, ticket_id, message_row_id
            )
            return self._load_outbox(conn, outbox_id)

    def _store_conversation_copy(
        self,
        conn: sqlite3.Connection,
        record: MessageRecord,
        ticket_id: int,
        who: str,
        at: float,
    ) -> int:
        row = conn.execute(
            "SELECT channel_id, number FROM tickets WHERE id = ?", (ticket_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"ticket id {ticket_id} does not exist")
        ticket_channel_id, number = row
        message = message_row(
            record,
            channel_id=ticket_channel_id,
            direction=Direction.OUT,
            arrived_at=at,
            reason=f"written by {who} in ticket #{number}",
        )
        try:
            message_row_id = insert_message(conn, message, ticket_id)
        except sqlite3.IntegrityError as error:
            raise ValueError(
                f"Message-ID <{record.message_id}> is already stored: compose a "
                "new message with a fresh Message-ID"
            ) from error
        self._record_event(
            conn,
            at,
            who,
            "reply-queued",
            ticket_id=ticket_id,
            message_row_id=message_row_id,
            detail=record.message_id,
        )
        return message_row_id

    def _load_outbox(self, conn: sqlite3.Connection, outbox_id: int) -> OutboxItem:
        row = conn.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM {OUTBOX_FROM} WHERE o.id = ?", (outbox_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"outbox id {outbox_id} does not exist")
        return outbox_from_row(row)

    def outbox(
        self,
        ticket_id: int | None = None,
        *,
        states: Sequence[OutboxState] | None = None,
        created_by: str | None = None,
        since: datetime | None = None,
    ) -> list[OutboxItem]:
        """Return outgoing messages, oldest first, matching every filter given.

        ``since`` keeps messages created at or after that time.
        """
        where, params = _outbox_where(ticket_id, states, created_by, since)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM {OUTBOX_FROM}{where} ORDER BY o.id",
                params,
            ).fetchall()
        return [outbox_from_row(row) for row in rows]

    def count_outgoing(
        self,
        *,
        recipient: str | None = None,
        created_by: str | None = None,
        since: datetime | None = None,
    ) -> int:
        """Count outgoing messages without loading them, e.g. for rate limits.

        ``recipient`` matches an envelope recipient without regard to case.
        """
        where, params = _outbox_where(None, None, created_by, since)
        if recipient is not None:
            where += " AND " if where else " WHERE "
            where += (
                "EXISTS (SELECT 1 FROM json_each(o.rcpt_to)"
                " WHERE lower(json_each.value) = ?)"
            )
            params.append(recipient.strip().lower())
        with self._read() as conn:
            row = conn.execute(
                f"SELECT count(*) FROM outbox o{where}", params
            ).fetchone()
        return int(row[0])

    def claim_outgoing(
        self, *, now: datetime | None = None, limit: int = 10
    ) -> list[OutboxItem]:
        """Move due queued or failed messages to ``sending`` and return them.

        Only the engine holding the engine lock calls this. A failed message
        is due when its retry time has come; one without a retry time waits
        for ``retry_outgoing``.
        """
        at = self._now(now)
        with self._write() as conn:
            rows = conn.execute(
                "SELECT id FROM outbox WHERE state IN (?, ?)"
                " AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (*_CLAIMABLE, at, limit),
            ).fetchall()
            claimed = []
            for (outbox_id,) in rows:
                conn.execute(
                    "UPDATE outbox SET state = 'sending', attempts = attempts + 1,"
                    " updated_at = ? WHERE id = ?",
                    (at, outbox_id),
                )
                claimed.append(self._load_outbox(conn, outbox_id))
                self._outbox_changed(conn, outbox_id, at)
            return claimed

    def mark_sent(self, outbox_id: int, *, now: datetime | None = None) -> OutboxItem:
        """Record that the SMTP server accepted the message."""
        at = self._now(now)
        return self._transition(
            outbox_id,
            ("sending",),
            "state = 'sent', sent_at = ?, last_error = NULL, next_attempt_at = NULL",
            (at,),
            at,
        )

    def mark_failed(
        self,
        outbox_id: int,
        error: str,
        *,
        retry_at: datetime | None = None,
        now: datetime | None = None,
    ) -> OutboxItem:
        """Record a failed attempt; with ``retry_at`` the engine tries again then.

        Without ``retry_at`` (a permanent failure such as a rejected
        recipient) the message stays failed until an operator retries or
        cancels it.
        """
        at = self._now(now)
        retry = to_epoch(retry_at) if retry_at else None
        return self._transition(
            outbox_id,
            ("sending",),
            "state = 'failed', last_error = ?, next_attempt_at = ?",
            (error, retry),
            at,
        )

    def retry_outgoing(
        self, outbox_id: int, *, now: datetime | None = None
    ) -> OutboxItem:
        """Make a failed message due now (an operator's retry)."""
        at = self._now(now)
        return self._transition(
            outbox_id, ("failed",), "state = 'queued', next_attempt_at = ?", (at,), at
        )

    def cancel_outgoing(
        self, outbox_id: int, who: str, *, now: datetime | None = None
    ) -> OutboxItem:
        """Cancel a message that is not being sent and was not sent."""
        at = self._now(now)
        with self._write() as conn:
            item = self._transition(
                outbox_id,
                _CANCELLABLE,
                "state = 'cancelled', next_attempt_at = NULL",
                (),
                at,
            )
            self._record_event(
                conn,
                at,
                who,
                "reply-cancelled",
                ticket_id=item.ticket_id,
                message_row_id=item.message_row_id,
                detail=item.message_id,
            )
        return item

    def requeue_interrupted(self, *, now: datetime | None = None) -> int:
        """Put messages left in ``sending`` by a stopped engine back in the queue.

        A new engine calls this once after taking the engine lock. The SMTP
        server may have accepted such a message before the stop, so a
        customer can receive it twice; the alternative would lose it.
        """
        at = self._now(now)
        with self._write() as conn:
            rows = conn.execute(
                "SELECT id FROM outbox WHERE state = 'sending'"
            ).fetchall()
            conn.execute(
                "UPDATE outbox SET state = 'queued', next_attempt_at = ?,"
                " updated_at = ?,"
                " last_error = 'engine stopped while sending; sending again'"
                " WHERE state = 'sending'",
                (at, at),
            )
            for (outbox_id,) in rows:
                self._outbox_changed(conn, outbox_id, at)
        return len(rows)

    def _transition(
        self,
        outbox_id: int,
        allowed: Sequence[str],
        assignments: str,
        params: tuple[Any, ...],
        at: float,
    ) -> OutboxItem:
        with self._write() as conn:
            item = self._load_outbox(conn, outbox_id)
            if str(item.state) not in allowed:
                raise OutboxStateError(
                    f"outbox message {outbox_id} is {item.state}; this action "
                    f"needs one of {', '.join(allowed)}"
                )
            conn.execute(
                f"UPDATE outbox SET {assignments}, updated_at = ? WHERE id = ?",
                (*params, at, outbox_id),
            )
            self._outbox_changed(conn, outbox_id, at)
            return self._load_outbox(conn, outbox_id)

    def _outbox_changed(
        self, conn: sqlite3.Connection, outbox_id: int, at: float
    ) -> None:
        conn.execute(
            "INSERT INTO changes (at, kind, channel_id, ticket_id, message_row_id)"
            " SELECT ?, ?, channel_id, ticket_id, message_row_id FROM outbox"
            " WHERE id = ?",
            (at, str(ChangeKind.OUTBOX), outbox_id),
        )
