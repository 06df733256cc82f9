"""The console's interface to the store, the engine and the settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

TicketStatus = Literal["open", "closed"]
ComposeMode = Literal["reply", "reply-all", "forward", "new"]
ChannelKind = Literal["incoming", "outgoing"]


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """The feed's filter; an empty field matches every ticket."""

    channel: str | None = None
    status: TicketStatus | None = None
    search: str = ""


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One ticket as a feed row; ``last_activity`` is timezone-aware UTC."""

    ticket_id: int
    number: int
    status: str
    channel: str
    customer: str
    subject: str
    message_count: int
    last_activity: datetime


@dataclass(frozen=True, slots=True)
class AttachmentView:
    """An attachment; ``part_index`` locates its MIME part in the raw message."""

    part_index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class MessageView:
    """One message of a conversation, decoded for display."""

    message_id: int
    sender: str
    to: str
    cc: str
    date: datetime
    subject: str
    body: str
    outgoing: bool = False
    kind: str = "normal"  # normal, auto-reply or bounce
    join_reason: str = ""
    attachments: tuple[AttachmentView, ...] = ()
    delivery: str = ""  # outbox state of our own message until it is sent


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket's header fields; its messages come from ``ticket_messages``."""

    row: FeedRow
    customer_address: str
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChannelStateView:
    """A channel and the engine's state for it.

    ``progress`` runs from 0.0 to 1.0 while syncing, and ``until`` is when a
    backing-off channel retries. ``error`` explains ``failed`` and
    ``sign-in-needed``. ``detail`` is the engine's own note, e.g. a count.
    """

    name: str
    kind: ChannelKind
    state: str
    progress: float | None = None
    until: datetime | None = None
    error: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An outgoing message until the engine has sent it."""

    outbox_id: int
    ticket_id: int | None
    recipients: str
    subject: str
    state: str  # queued, sending, failed, sent, cancelled
    error: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """A store change the feed announces; ``kind`` is e.g. ``ticket-created``."""

    seq: int
    kind: str
    ticket_id: int | None = None
    summary: str = ""


@dataclass(slots=True)
class Draft:
    """A message being composed; ``attachments`` are paths on this machine."""

    mode: ComposeMode
    to: str
    subject: str
    body: str
    cc: str = ""
    ticket_id: int | None = None
    reply_to_message: int | None = None
    channel: str | None = None
    attachments: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One setting in a channel form.

    ``kind`` is ``text``, ``int``, ``bool``, ``choice`` or ``secret``;
    ``choices`` pairs each stored value with its label.
    """

    name: str
    label: str
    kind: str = "text"
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""
    help: str = ""


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of a connection test: ``passed`` is None while it runs."""

    name: str
    passed: bool | None
    detail: str = ""


class ConsoleBackend(Protocol):
    """Everything the screens read and do; blocking calls run in workers."""

    operator: str

    def change_counter(self) -> int: ...

    def changes_since(self, seq: int) -> Sequence[Change]: ...

    def count_tickets(self, query: FeedFilter) -> int: ...

    def list_tickets(
        self, query: FeedFilter, offset: int, limit: int
    ) -> Sequence[FeedRow]: ...

    def get_ticket(self, ticket_id: int) -> TicketView | None: ...

    def ticket_messages(self, ticket_id: int) -> Sequence[MessageView]: ...

    def channel_names(self) -> Sequence[str]: ...

    def channel_states(self) -> Sequence[ChannelStateView]: ...

    def outbox(self, ticket_id: int | None = None) -> Sequence[OutboxEntry]: ...

    def close_ticket(self, ticket_id: int) -> None: ...

    def reopen_ticket(self, ticket_id: int) -> None: ...

    def split_message(self, message_id: int) -> int:
        """Move a message to a new ticket and return that ticket's number."""
        ...

    def merge_tickets(self, source_ticket: int, target_number: int) -> int:
        """Merge a ticket into the one numbered ``target_number``; return its id."""
        ...

    def save_attachment(self, message_id: int, part_index: int, path: Path) -> Path: ...

    def draft(
        self, mode: ComposeMode, ticket_id: int | None, message_id: int | None
    ) -> Draft: ...

    def queue_draft(self, draft: Draft) -> int: ...

    def postpone_draft(self, draft: Draft) -> None: ...

    def postponed_drafts(self) -> Sequence[tuple[str, Draft]]:
        """Return postponed drafts, oldest first, each with its id."""
        ...

    def resume_draft(self, draft_id: str) -> Draft:
        """Return a postponed draft and forget it (postponing again keeps it)."""
        ...

    def channel_fields(self, kind: ChannelKind) -> Sequence[FieldSpec]: ...

    def provider_defaults(self, kind: ChannelKind, provider: str) -> dict[str, str]: ...

    def channel_values(self, kind: ChannelKind, name: str) -> dict[str, str]: ...

    def validate_field(
        self, kind: ChannelKind, name: str, value: str, values: dict[str, str]
    ) -> str | None: ...

    def save_channel(
        self, kind: ChannelKind, values: dict[str, str], original_name: str | None
    ) -> None: ...

    def remove_channel(self, kind: ChannelKind, name: str) -> None: ...

    def test_connection(
        self,
        kind: ChannelKind,
        values: dict[str, str],
        on_step: Callable[[StepResult], None],
    ) -> bool: ...
