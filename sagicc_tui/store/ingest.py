"""Raw messages to tickets: parse, de-duplicate, group and store in one transaction."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord
from sagicc_tui.store.models import ChangeKind, Direction, IngestItem, to_epoch
from sagicc_tui.store.records import customer_name, message_row
from sagicc_tui.store.rows import (
    NewTicket,
    insert_message,
    insert_ticket,
    record_change,
)
from sagicc_tui.store.sync_state import write_cursor
from sagicc_tui.store.ticket_index import SqliteTicketIndex
from sagicc_tui.store.tickets_store import TicketStore
from sagicc_tui.tickets.grouping import MODES, assign
from sagicc_tui.tickets.index import Action, Assignment

logger = logging.getLogger(__name__)

ENGINE_ACTOR = "engine"


@dataclass(frozen=True, slots=True)
class IngestParams:
    """The channel settings ingest needs; ``from_channel`` reads them from settings."""

    channel: str
    grouping: str = "thread"
    folder: str | None = None
    encoding: str = "utf-8"
    reopen_window_days: int = 14
    max_message_size: int | None = None
    blocked: tuple[str, ...] = ()
    tag_prefix: str = ""
    message_id_key: bytes | None = None
    own_addresses: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if str(self.grouping) not in MODES:
            raise ValueError(
                f"channel {self.channel!r}: invalid grouping {self.grouping!r}, "
                f"use one of {', '.join(MODES)}"
            )

    @classmethod
    def from_channel(
        cls,
        channel: object,
        *,
        tag_prefix: str = "",
        message_id_key: bytes | None = None,
        own_addresses: Collection[str] = (),
    ) -> IngestParams:
        """Build parameters from an incoming channel's settings object.

        Reads ``name``, ``grouping``, ``folder``, ``encoding``,
        ``reopen_window_days``, ``max_message_size``, ``blocked_senders`` and
        ``blocked_domains``; the rest comes from the global settings.
        """
        blocked = (
            *getattr(channel, "blocked_senders", ()),
            *getattr(channel, "blocked_domains", ()),
        )
        return cls(
            channel=str(getattr(channel, "name")),  # noqa: B009 - duck-typed settings
            grouping=str(getattr(channel, "grouping", "thread")),
            folder=getattr(channel, "folder", None),
            encoding=getattr(channel, "encoding", "utf-8"),
            reopen_window_days=getattr(channel, "reopen_window_days", 14),
            max_message_size=getattr(channel, "max_message_size", None),
            blocked=tuple(blocked),
            tag_prefix=tag_prefix,
            message_id_key=message_id_key,
            own_addresses=frozenset(address.lower() for address in own_addresses),
        )


@dataclass(frozen=True, slots=True)
class IngestCursor:
    """The folder position a batch brings the channel to, stored with its messages."""

    folder: str
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Outcome of one item: the stored row, its ticket and the reason.

    For a duplicate, ``message_row_id`` is the copy stored earlier and
    ``stored`` is false.
    """

    message_id: str
    uid: int | None
    action: Action
    reason: str
    stored: bool
    message_row_id: int | None
    ticket_id: int | None
    ticket_number: int | None
    new_ticket: bool
    flags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class _Batch:
    """State shared by every message of one batch: the transaction and the channel."""

    conn: sqlite3.Connection
    index: SqliteTicketIndex
    channel_id: int
    params: IngestParams
    uidvalidity: int | None
    moment: datetime
    at: float


def ingest(
    store: TicketStore,
    params: IngestParams | object,
    items: Iterable[IngestItem | bytes],
    *,
    cursor: IngestCursor | None = None,
    now: datetime | None = None,
) -> list[IngestResult]:
    """Store a batch of raw messages and advance ``cursor``, all in one transaction.

    Either everything in the batch and the cursor commit, or nothing does,
    so a crash mid-batch makes the engine fetch the same UIDs again and the
    Message-ID check keeps them from being stored twice. ``params`` is an
    ``IngestParams`` or an incoming channel's settings object.
    """
    if not isinstance(params, IngestParams):
        params = IngestParams.from_channel(params)
    moment = now if now is not None else store.clock()
    at = to_epoch(moment)
    channel_id = store.ensure_channel(params.channel)
    batch = [
        item if isinstance(item, IngestItem) else IngestItem(raw=item) for item in items
    ]
    # Parse before taking the write lock, so consoles wait only for the inserts.
    records = [_parse(item, params, moment) for item in batch]

    with store.write_transaction() as conn:
        _remember_encoding(conn, channel_id, params.encoding)
        shared = _Batch(
            conn=conn,
            index=SqliteTicketIndex(conn, channel_id, params.channel),
            channel_id=channel_id,
            params=params,
            uidvalidity=cursor.uidvalidity if cursor else None,
            moment=moment,
            at=at,
        )
        results = [
            _ingest_one(shared, item, record)
            for item, record in zip(batch, records, strict=True)
        ]
        if cursor is not None:
            write_cursor(
                conn, channel_id, cursor.folder, cursor.uidvalidity, cursor.last_uid, at
            )
    return results


def _remember_encoding(
    conn: sqlite3.Connection, channel_id: int, encoding: str
) -> None:
    # The body pass runs later and needs the channel encoding of each message.
    conn.execute(
        "UPDATE channels SET encoding = ? WHERE id = ? AND encoding != ?",
        (encoding, channel_id, encoding),
    )


def parse_headers(
    items: list[IngestItem], encoding: str, max_message_size: int | None
) -> list[MessageRecord]:
    """Parse the headers of each item in a worker process; return records without raw.

    A module-level function, so ``ProcessPoolExecutor.submit(parse_headers,
    ...)`` can run it. The records carry ``raw=b""`` to halve what crosses
    the process boundary: set each as its item's ``record`` and ``ingest``
    puts the item's bytes back. Items without an ``internaldate`` use the
    parse time as arrival.
    """
    records = []
    for item in items:
        record = parse_message(
            item.raw,
            encoding=encoding,
            arrival=item.internaldate,
            max_size=max_message_size,
            with_body=False,
            size=item.size,
        )
        record.raw = b""
        records.append(record)
    return records


def _parse(item: IngestItem, params: IngestParams, moment: datetime) -> MessageRecord:
    if isinstance(item.record, MessageRecord):
        if not item.record.raw:
            item.record.raw = item.raw
        return item.record
    return parse_message(
        item.raw,
        encoding=params.encoding,
        arrival=item.internaldate or moment,
        max_size=params.max_message_size,
        with_body=False,
        size=item.size,
    )


def _assign(
    record: MessageRecord,
    index: SqliteTicketIndex,
    params: IngestParams,
    moment: datetime,
) -> Assignment:
    try:
        return assign(
            record,
            params.grouping,
            index,
            now=moment,
            reopen_window_days=params.reopen_window_days,
            tag_prefix=params.tag_prefix,
            message_id_key=params.message_id_key,
            own_addresses=params.own_addresses,
            blocked=params.blocked,
        )
    except Exception as error:  # a grouping bug must not lose the message
        logger.exception("grouping failed for Message-ID <%s>", record.message_id)
        return Assignment(
            action=Action.NOT_TICKETED,
            ticket_id=None,
            reason=(
                f"grouping failed ({type(error).__name__}: {error});"
                " stored without a ticket"
            ),
        )


def _ingest_one(batch: _Batch, item: IngestItem, record: MessageRecord) -> IngestResult:
    params = batch.params
    assignment = _assign(record, batch.index, params, batch.moment)
    if assignment.action == Action.DUPLICATE:
        return _duplicate(batch, item, record, assignment)

    ticket_id, number, new_ticket = _ticket_for(batch, record, assignment)
    arrived_at = to_epoch(item.internaldate) if item.internaldate else batch.at
    direction = Direction.OUT if assignment.outbound else item.direction
    fetched = item.uid is not None
    row = message_row(
        record,
        channel_id=batch.channel_id,
        direction=direction,
        arrived_at=min(arrived_at, batch.at),
        reason=assignment.reason,
        folder=params.folder if fetched else None,
        uidvalidity=batch.uidvalidity if fetched else None,
        uid=item.uid,
        extra_flags=item.extra_flags,
    )
    row_id = insert_message(batch.conn, row, ticket_id)
    return IngestResult(
        message_id=record.message_id,
        uid=item.uid,
        action=assignment.action,
        reason=assignment.reason,
        stored=True,
        message_row_id=row_id,
        ticket_id=ticket_id,
        ticket_number=number,
        new_ticket=new_ticket,
        flags=frozenset(row.flags),
    )


def _ticket_for(
    batch: _Batch, record: MessageRecord, assignment: Assignment
) -> tuple[int | None, int | None, bool]:
    """Apply the assignment's ticket side; return (ticket id, number, opened)."""
    if assignment.opens_ticket:
        ticket_id, number = insert_ticket(
            batch.conn,
            NewTicket(
                channel_id=batch.channel_id,
                customer_addr=assignment.customer,
                customer_name=customer_name(record, assignment.customer),
                subject=record.subject,
                normalized_subject=assignment.subject_key,
                at=min(to_epoch(record.date), batch.at),
                tag_prefix=batch.params.tag_prefix,
                linked_ticket_id=assignment.linked_ticket_id,
                changed_at=batch.at,
            ),
        )
        return ticket_id, number, True

    if assignment.ticket_id is None:
        return None, None, False
    if assignment.action == Action.REOPENED:
        _reopen_by_mail(batch, assignment)
    return assignment.ticket_id, batch.index.ticket_number(assignment.ticket_id), False


def _reopen_by_mail(batch: _Batch, assignment: Assignment) -> None:
    batch.conn.execute(
        "UPDATE tickets SET status = 'open', closed_at = NULL WHERE id = ?",
        (assignment.ticket_id,),
    )
    batch.conn.execute(
        "INSERT INTO events (at, who, action, ticket_id, detail)"
        " VALUES (?, ?, 'reopen', ?, ?)",
        (batch.at, ENGINE_ACTOR, assignment.ticket_id, assignment.reason),
    )
    record_change(
        batch.conn,
        ChangeKind.TICKET_UPDATED,
        batch.at,
        batch.channel_id,
        assignment.ticket_id,
    )


def _duplicate(
    batch: _Batch, item: IngestItem, record: MessageRecord, assignment: Assignment
) -> IngestResult:
    row = batch.conn.execute(
        "SELECT m.id, m.ticket_id, t.number, m.folder, m.from_addr, m.subject"
        " FROM messages m LEFT JOIN tickets t ON t.id = m.ticket_id"
        " WHERE m.channel_id = ? AND m.message_id = ?",
        (batch.channel_id, record.message_id),
    ).fetchone()
    row_id, ticket_id, number, folder, stored_from, stored_subject = (
        row if row else (None,) * 6
    )
    sender = record.from_addr.key if record.from_addr else ""
    if row_id is not None and (stored_from, stored_subject) != (sender, record.subject):
        # Some mailers reuse Message-IDs. The copy stored first wins, so log it.
        logger.warning(
            "channel %s: Message-ID <%s> (UID %s) differs in sender or subject from "
            "stored message %s; kept the stored one",
            batch.params.channel,
            record.message_id,
            item.uid,
            row_id,
        )

    # After a UIDVALIDITY change the stored copy has a new UID in the same
    # folder; keep it current so after-import actions address the right mail.
    folder_name = batch.params.folder
    if row_id is not None and item.uid is not None and folder in (None, folder_name):
        batch.conn.execute(
            "UPDATE messages SET folder = ?, uidvalidity = ?, uid = ? WHERE id = ?",
            (folder_name, batch.uidvalidity, item.uid, row_id),
        )
    return IngestResult(
        message_id=record.message_id,
        uid=item.uid,
        action=Action.DUPLICATE,
        reason=assignment.reason,
        stored=False,
        message_row_id=row_id,
        ticket_id=ticket_id,
        ticket_number=number,
        new_ticket=False,
        flags=frozenset(str(flag) for flag in record.flags),
    )
