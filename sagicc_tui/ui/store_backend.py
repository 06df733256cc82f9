"""The console backend over the real ticket store, settings and engine."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from sagicc_tui.mail.body import attachment_bytes
from sagicc_tui.mail.display import printable
from sagicc_tui.settings import Config
from sagicc_tui.store import (
    ChangeKind,
    Direction,
    OutboxState,
    StoredMessage,
    Ticket,
    TicketFilter,
    TicketStatus,
    TicketStore,
)
from sagicc_tui.ui.backend import (
    AttachmentView,
    Change,
    ChannelKind,
    ChannelStateView,
    ComposeMode,
    Draft,
    FeedFilter,
    FeedRow,
    FieldSpec,
    MessageView,
    OutboxEntry,
    StepResult,
    TicketView,
)
from sagicc_tui.ui.channel_settings import ChannelSettings
from sagicc_tui.ui.outgoing import Outgoing

log = logging.getLogger(__name__)

# The engine has not reported on a configured incoming channel yet (it is not
# running, or still starting).
NO_STATE = "waiting"
# The outbox worker reports no state per outgoing channel: it connects when a
# message is due, and failures show on the outbox entries.
OUTGOING_STATE = "on demand"


def _line(text: str) -> str:
    return printable(text, multiline=False)


def feed_row(ticket: Ticket) -> FeedRow:
    """Build a ticket's feed row, its customer's text made safe to print."""
    return FeedRow(
        ticket_id=ticket.id,
        number=ticket.number,
        status=str(ticket.status),
        channel=_line(ticket.channel),
        customer=_line(ticket.customer_name or ticket.customer_addr),
        subject=_line(ticket.subject),
        message_count=ticket.message_count,
        last_activity=ticket.last_activity,
    )


def message_view(message: StoredMessage) -> MessageView:
    """Build a message's view with every header, name and body made printable."""
    sender = message.from_addr
    if message.from_name:
        sender = f"{message.from_name} <{message.from_addr}>"
    attachments = tuple(
        AttachmentView(
            part_index=int(item.get("part_index", -1)),  # type: ignore[call-overload]
            filename=_line(str(item.get("filename") or "unnamed")),
            content_type=_line(str(item.get("content_type", ""))),
            size=int(item.get("size", 0)),  # type: ignore[call-overload]
        )
        for item in message.attachments
    )
    delivery = ""
    if message.outbox_state is not None and str(message.outbox_state) != "sent":
        delivery = str(message.outbox_state)
    return MessageView(
        message_id=message.id,
        sender=_line(sender),
        to=_line(", ".join(message.to)),
        cc=_line(", ".join(message.cc)),
        date=message.date,
        subject=_line(message.subject),
        body=printable(message.body_text, multiline=True),
        outgoing=message.direction == Direction.OUT,
        kind=message.kind,
        join_reason=_line(message.reason),
        attachments=attachments,
        delivery=delivery,
    )


class StoreBackend:
    """Reads and actions on a ``TicketStore``, recorded under ``operator``.

    ``settings`` reads and writes the config file, so a channel edit is in
    effect for the next call.
    """

    def __init__(
        self,
        store: TicketStore,
        settings: ChannelSettings,
        *,
        operator: str,
        outgoing: Outgoing | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.operator = operator
        self.outgoing = outgoing or Outgoing(store, settings.load, operator=operator)

    @property
    def config(self) -> Config:
        return self.settings.load()

    # Live updates

    def change_counter(self) -> int:
        return self.store.change_counter()

    def changes_since(self, seq: int) -> Sequence[Change]:
        changes = self.store.changes_since(seq)
        created = {c.ticket_id for c in changes if c.kind == ChangeKind.TICKET_NEW}
        return [self._describe(change, created) for change in changes]

    def _describe(self, change, created: set[int | None]) -> Change:  # noqa: ANN001
        kind = {
            ChangeKind.TICKET_NEW: "ticket-created",
            ChangeKind.MESSAGE_NEW: "message-added",
            ChangeKind.TICKET_UPDATED: "ticket-updated",
            ChangeKind.CHANNEL_STATE: "channel-state",
            ChangeKind.OUTBOX: "outbox",
        }.get(change.kind, str(change.kind))
        ticket = None
        if change.ticket_id is not None and kind in ("ticket-created", "message-added"):
            ticket = self.store.get_ticket(change.ticket_id)
        if ticket is None:
            return Change(change.seq, kind, change.ticket_id)
        row = feed_row(ticket)
        who, subject = row.customer, row.subject
        summary = f"#{ticket.number} {subject} ({who})"
        if kind == "message-added" and change.ticket_id not in created:
            message = self._message(change.message_row_id)
            if message is not None and message.direction == Direction.IN:
                kind = "customer-answered"
                summary = f"{who} answered #{ticket.number} {subject}"
        return Change(change.seq, kind, change.ticket_id, summary)

    def _message(self, row_id: int | None) -> StoredMessage | None:
        if row_id is None:
            return None
        return self.store.get_message(row_id, with_raw=False)

    # Reading

    @staticmethod
    def _filter(query: FeedFilter) -> TicketFilter:
        status = TicketStatus(query.status) if query.status else None
        return TicketFilter(
            channel=query.channel, status=status, search=query.search or None
        )

    def count_tickets(self, query: FeedFilter) -> int:
        return self.store.count_tickets(self._filter(query))

    def list_tickets(self, query: FeedFilter, offset: int, limit: int) -> list[FeedRow]:
        tickets = self.store.list_tickets(self._filter(query), offset, limit)
        return [feed_row(t) for t in tickets]

    def get_ticket(self, ticket_id: int) -> TicketView | None:
        ticket = self.store.get_ticket(ticket_id)
        if ticket is None or ticket.merged_into_id is not None:
            return None
        address = _line(ticket.customer_addr)
        return TicketView(feed_row(ticket), address, ticket.closed_at)

    def ticket_messages(self, ticket_id: int) -> list[MessageView]:
        return [message_view(m) for m in self.store.ticket_messages(ticket_id)]

    def channel_names(self) -> list[str]:
        names = {c.name for c in self.config.incoming}
        names |= {name for name, kind in self.store.channels() if kind == "incoming"}
        return sorted(names)

    def channel_states(self) -> list[ChannelStateView]:
        reported = {s.channel: s for s in self.store.channel_states()}
        views = []
        config = self.config
        for kind, channels in (
            ("incoming", config.incoming),
            ("outgoing", config.outgoing),
        ):
            for channel in channels:
                state = reported.get(channel.name)
                if state is None:
                    default = NO_STATE if kind == "incoming" else OUTGOING_STATE
                    views.append(ChannelStateView(channel.name, kind, default))  # type: ignore[arg-type]
                    continue
                views.append(
                    ChannelStateView(
                        name=channel.name,
                        kind=kind,  # type: ignore[arg-type]
                        state=str(state.state),
                        progress=state.progress,
                        until=state.until,
                        error=state.error or "",
                        detail=state.detail,
                    )
                )
        return views

    def outbox(self, ticket_id: int | None = None) -> list[OutboxEntry]:
        """Return the messages not sent yet (queued, sending or failed)."""
        pending = [OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED]
        return [
            OutboxEntry(
                outbox_id=item.id,
                ticket_id=item.ticket_id,
                recipients=_line(", ".join(item.rcpt_to)),
                subject="",
                state=str(item.state),
                error=_line(item.last_error or ""),
            )
            for item in self.store.outbox(ticket_id, states=pending)
        ]

    # Ticket actions

    def close_ticket(self, ticket_id: int) -> None:
        self.store.close_ticket(ticket_id, self.operator)

    def reopen_ticket(self, ticket_id: int) -> None:
        self.store.reopen_ticket(ticket_id, self.operator)

    def split_message(self, message_id: int) -> int:
        prefix = self.config.ticket_tag_prefix
        return self.store.split_message(
            message_id, self.operator, tag_prefix=prefix
        ).number

    def merge_tickets(self, source_ticket: int, target_number: int) -> int:
        target = self.store.get_ticket(number=target_number)
        if target is None:
            raise LookupError(f"ticket #{target_number} does not exist")
        self.store.merge_tickets(source_ticket, target.id, self.operator)
        return target.id

    def save_attachment(self, message_id: int, part_index: int, path: Path) -> Path:
        """Write one attachment's decoded bytes to a new file at ``path``."""
        message = self.store.get_message(message_id)
        if message is None or message.raw is None:
            raise LookupError(f"message {message_id} does not exist")
        data = attachment_bytes(message.raw, part_index)
        try:
            with path.open("xb") as file:
                file.write(data)
        except FileExistsError:
            raise ValueError(
                f"{path} already exists: choose another file name"
            ) from None
        log.info(
            "operator %s saved attachment %s of message %s to %s",
            self.operator,
            part_index,
            message_id,
            path,
        )
        return path

    # Composing

    def draft(
        self, mode: ComposeMode, ticket_id: int | None, message_id: int | None
    ) -> Draft:
        return self.outgoing.draft(mode, ticket_id, message_id)

    def queue_draft(self, draft: Draft) -> int:
        return self.outgoing.queue(draft)

    def postpone_draft(self, draft: Draft) -> None:
        self.outgoing.postpone(draft)

    def postponed_drafts(self) -> list[tuple[str, Draft]]:
        return self.outgoing.postponed()

    def resume_draft(self, draft_id: str) -> Draft:
        return self.outgoing.resume(draft_id)

    # Channels

    def channel_fields(self, kind: ChannelKind) -> Sequence[FieldSpec]:
        return self.settings.fields(kind)

    def provider_defaults(self, kind: ChannelKind, provider: str) -> dict[str, str]:
        return self.settings.provider_defaults(kind, provider)

    def channel_values(self, kind: ChannelKind, name: str) -> dict[str, str]:
        return self.settings.values(kind, name)

    def validate_field(
        self, kind: ChannelKind, name: str, value: str, values: dict[str, str]
    ) -> str | None:
        return self.settings.validate_field(kind, name, value, values)

    def save_channel(
        self, kind: ChannelKind, values: dict[str, str], original_name: str | None
    ) -> None:
        self.settings.save(kind, values, original_name)

    def remove_channel(self, kind: ChannelKind, name: str) -> None:
        self.settings.remove(kind, name)

    def test_connection(
        self,
        kind: ChannelKind,
        values: dict[str, str],
        on_step: Callable[[StepResult], None],
    ) -> bool:
        return self.settings.test_connection(kind, values, on_step)
