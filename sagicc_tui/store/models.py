"""Rows the ticket store returns to the engine and the consoles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Direction(StrEnum):
    """Whether a message came from a customer (in) or from us (out)."""

    IN = "in"
    OUT = "out"


class OutboxState(StrEnum):
    """Life of an outgoing message: queued, sending, then sent, failed or cancelled.

    ``failed`` with a retry time goes back to ``sending`` when that time comes;
    ``failed`` without one waits for an operator to retry or cancel it.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ChannelStateName(StrEnum):
    CONNECTING = "connecting"
    SYNCING = "syncing"
    IDLE = "idle"
    BACKING_OFF = "backing-off"
    FAILED = "failed"
    SIGN_IN_NEEDED = "sign-in-needed"


class ChangeKind(StrEnum):
    """Kind of change one row of the change log announces to consoles."""

    TICKET_NEW = "ticket-new"
    MESSAGE_NEW = "message-new"
    TICKET_UPDATED = "ticket-updated"
    CHANNEL_STATE = "channel-state"
    OUTBOX = "outbox"


def to_epoch(moment: datetime) -> float:
    """Convert to seconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def from_epoch(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Feed filter. ``None`` matches any value, and merged tickets never show."""

    channel: str | None = None
    status: TicketStatus | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """One ticket as the feed and the ticket screen show it."""

    id: int
    number: int
    channel: str
    status: TicketStatus
    customer_addr: str
    customer_name: str
    subject: str
    normalized_subject: str
    tag: str
    created_at: datetime
    last_activity: datetime
    closed_at: datetime | None
    linked_ticket_id: int | None
    merged_into_id: int | None
    message_count: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One stored message without its raw bytes (``get_message`` adds them).

    ``outbox_state`` is set for our own outgoing messages, so the ticket
    screen can show whether a reply has left.
    """

    id: int
    channel: str
    ticket_id: int | None
    message_id: str
    direction: Direction
    kind: str
    from_addr: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime
    arrived_at: datetime
    flags: set[str]
    reason: str
    folder: str | None
    uid: int | None
    size: int
    body_text: str
    body_indexed: bool
    attachments: list[dict[str, object]]
    outbox_state: OutboxState | None = None
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One outgoing message with its SMTP envelope and delivery state."""

    id: int
    channel: str
    ticket_id: int | None
    message_row_id: int | None
    message_id: str
    state: OutboxState
    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    created_by: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChannelState:
    """The engine's last reported state of one channel.

    ``progress`` is (messages done, messages in total) while syncing.
    """

    channel: str
    state: ChannelStateName
    detail: str
    progress: tuple[int, int] | None
    until: datetime | None
    error: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far one folder has been imported: UIDVALIDITY and the last UID stored."""

    channel: str
    folder: str
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log; ``seq`` only grows."""

    seq: int
    at: datetime
    kind: ChangeKind
    channel: str | None
    ticket_id: int | None
    message_row_id: int | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One operator or engine action on a ticket, with who did it and when."""

    id: int
    at: datetime
    who: str
    action: str
    ticket_id: int | None
    other_ticket_id: int | None
    message_row_id: int | None
    detail: str


@dataclass(slots=True)
class IngestItem:
    """One raw message to store; ``record`` may carry a parse done elsewhere.

    The engine may parse in worker processes and pass the record, so the
    store does not parse twice. ``size`` is the full size in bytes when
    ``raw`` holds only the headers of a message over the size limit.
    """

    raw: bytes
    uid: int | None = None
    internaldate: datetime | None = None
    size: int | None = None
    record: object | None = None
    direction: Direction = Direction.IN
    extra_flags: set[str] = field(default_factory=set)
