"""A console backend over plain lists, for fixed-data screen tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

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

FROZEN_NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

CUSTOMERS = ["Ana Lima", "Björn Ek", "Chen Wei", "Dana Ross", "Émile Roy"]
SUBJECTS = [
    "Invoice 4411 charged twice",
    "Cannot log in after password reset",
    "Where is my parcel?",
    "Refund for order 8812",
    "Ünïcode subject with a very long tail that will not fit in eighty columns",
]

FIELDS = (
    FieldSpec("name", "Name"),
    FieldSpec(
        "provider", "Provider", "choice", (("other", "Other"), ("google", "Google"))
    ),
    FieldSpec("host", "Host"),
    FieldSpec("port", "Port", "int", default="993"),
    FieldSpec(
        "encryption",
        "Encryption",
        "choice",
        (("ssl", "SSL"), ("starttls", "TLS (STARTTLS)"), ("none", "None")),
        "ssl",
    ),
    FieldSpec("validate_certs", "Validate certificates", "bool", default="true"),
    FieldSpec("username", "Username"),
    FieldSpec("password", "Password", "secret"),
)


class MemoryBackend:
    """Tickets, messages and channels held in memory, with a change counter."""

    operator = "tester"

    def __init__(self, tickets: int = 12, now: datetime = FROZEN_NOW) -> None:
        self.now = now
        self.rows: list[FeedRow] = [self._make_row(i) for i in range(1, tickets + 1)]
        self.messages: dict[int, list[MessageView]] = {
            row.ticket_id: self._make_messages(row) for row in self.rows
        }
        self.changes: list[Change] = []
        self.queued: list[Draft] = []
        self.postponed: list[Draft] = []
        self.saved: list[tuple[int, int, Path]] = []
        self.channels: dict[tuple[str, str], dict[str, str]] = {
            ("incoming", "support"): {"name": "support", "host": "127.0.0.1"},
            ("incoming", "billing"): {"name": "billing", "host": "127.0.0.1"},
            ("outgoing", "support-out"): {"name": "support-out", "host": "127.0.0.1"},
        }
        self.states = [
            ChannelStateView("support", "incoming", "idle"),
            ChannelStateView("billing", "incoming", "syncing", progress=0.4),
            ChannelStateView("support-out", "outgoing", "idle"),
        ]

    def _make_row(self, i: int) -> FeedRow:
        return FeedRow(
            ticket_id=i,
            number=1000 + i,
            status="closed" if i % 5 == 0 else "open",
            channel="billing" if i % 3 == 0 else "support",
            customer=CUSTOMERS[i % len(CUSTOMERS)],
            subject=SUBJECTS[i % len(SUBJECTS)],
            message_count=1 + i % 4,
            last_activity=self.now - timedelta(minutes=7 * i * i),
        )

    def _make_messages(self, row: FeedRow) -> list[MessageView]:
        messages = []
        for n in range(row.message_count):
            outgoing = n % 2 == 1
            messages.append(
                MessageView(
                    message_id=row.ticket_id * 100 + n,
                    sender="support@example.com" if outgoing else row.customer,
                    to=row.customer if outgoing else "support@example.com",
                    cc="",
                    date=row.last_activity - timedelta(hours=row.message_count - n),
                    subject=("Re: " if n else "") + row.subject,
                    body=f"Message {n + 1} of ticket {row.number}.\n\nBest regards",
                    outgoing=outgoing,
                    kind="auto-reply" if n == 2 else "normal",
                    join_reason="new ticket" if n == 0 else "In-Reply-To matched",
                    attachments=(
                        AttachmentView(2, "invoice.pdf", "application/pdf", 48213),
                    )
                    if n == 0
                    else (),
                )
            )
        return messages

    # Reading

    def change_counter(self) -> int:
        return len(self.changes)

    def changes_since(self, seq: int) -> Sequence[Change]:
        return self.changes[seq:]

    def _matching(self, query: FeedFilter) -> list[FeedRow]:
        rows = sorted(self.rows, key=lambda r: r.last_activity, reverse=True)
        if query.channel:
            rows = [r for r in rows if r.channel == query.channel]
        if query.status:
            rows = [r for r in rows if r.status == query.status]
        if query.search:
            needle = query.search.lower()
            rows = [
                r
                for r in rows
                if needle in r.customer.lower() or needle in r.subject.lower()
            ]
        return rows

    def count_tickets(self, query: FeedFilter) -> int:
        return len(self._matching(query))

    def list_tickets(self, query: FeedFilter, offset: int, limit: int) -> list[FeedRow]:
        return self._matching(query)[offset : offset + limit]

    def _row(self, ticket_id: int) -> FeedRow | None:
        return next((r for r in self.rows if r.ticket_id == ticket_id), None)

    def get_ticket(self, ticket_id: int) -> TicketView | None:
        row = self._row(ticket_id)
        if row is None:
            return None
        return TicketView(
            row, customer_address=f"{row.customer.split()[0].lower()}@example.org"
        )

    def ticket_messages(self, ticket_id: int) -> list[MessageView]:
        return self.messages.get(ticket_id, [])

    def channel_names(self) -> list[str]:
        return sorted({name for kind, name in self.channels if kind == "incoming"})

    def channel_states(self) -> list[ChannelStateView]:
        return list(self.states)

    def outbox(self, ticket_id: int | None = None) -> list[OutboxEntry]:
        entries = [
            OutboxEntry(i + 1, d.ticket_id, d.to, d.subject, "queued")
            for i, d in enumerate(self.queued)
        ]
        return [e for e in entries if ticket_id is None or e.ticket_id == ticket_id]

    # Actions

    def _set_status(self, ticket_id: int, status: str) -> None:
        self.rows = [
            replace(r, status=status) if r.ticket_id == ticket_id else r
            for r in self.rows
        ]
        self.add_change("ticket-updated", ticket_id)

    def close_ticket(self, ticket_id: int) -> None:
        self._set_status(ticket_id, "closed")

    def reopen_ticket(self, ticket_id: int) -> None:
        self._set_status(ticket_id, "open")

    def split_message(self, message_id: int) -> int:
        raise ValueError(f"message {message_id} cannot be split in the memory backend")

    def merge_tickets(self, source_ticket: int, target_number: int) -> int:
        target = next((r for r in self.rows if r.number == target_number), None)
        if target is None:
            raise LookupError(f"ticket #{target_number} not found")
        self.messages[target.ticket_id] += self.messages.pop(source_ticket, [])
        self.rows = [r for r in self.rows if r.ticket_id != source_ticket]
        self.add_change("ticket-merged", target.ticket_id)
        return target.ticket_id

    def save_attachment(self, message_id: int, part_index: int, path: Path) -> Path:
        path.write_bytes(b"%PDF-1.4 fixed test bytes")
        self.saved.append((message_id, part_index, path))
        return path

    def draft(
        self, mode: ComposeMode, ticket_id: int | None, message_id: int | None
    ) -> Draft:
        if ticket_id is None:
            return Draft(mode="new", to="", subject="", body="")
        ticket = self.get_ticket(ticket_id)
        assert ticket is not None
        prefix = "Fwd: " if mode == "forward" else "Re: "
        return Draft(
            mode=mode,
            to="" if mode == "forward" else ticket.customer_address,
            cc="boss@example.org" if mode == "reply-all" else "",
            subject=prefix + ticket.row.subject,
            body="\n\n> quoted original\n",
            ticket_id=ticket_id,
            reply_to_message=message_id,
        )

    def queue_draft(self, draft: Draft) -> int:
        self.queued.append(draft)
        self.add_change("outbox-queued", draft.ticket_id)
        return len(self.queued)

    def postpone_draft(self, draft: Draft) -> None:
        self.postponed.append(draft)

    def postponed_drafts(self) -> list[tuple[str, Draft]]:
        return [(str(i), d) for i, d in enumerate(self.postponed)]

    def resume_draft(self, draft_id: str) -> Draft:
        return self.postponed.pop(int(draft_id))

    # Channels

    def channel_fields(self, kind: ChannelKind) -> list[FieldSpec]:
        return list(FIELDS)

    def provider_defaults(self, kind: ChannelKind, provider: str) -> dict[str, str]:
        if provider == "google":
            return {"host": "imap.gmail.com", "port": "993", "encryption": "ssl"}
        return {}

    def channel_values(self, kind: ChannelKind, name: str) -> dict[str, str]:
        return dict(self.channels[(kind, name)])

    def validate_field(
        self, kind: ChannelKind, name: str, value: str, values: dict[str, str]
    ) -> str | None:
        if name == "port" and not (value.isdigit() and 1 <= int(value) <= 65535):
            return f"port {value!r} is invalid: use a number from 1 to 65535"
        if name in ("name", "host") and not value.strip():
            return f"{name} is missing: enter a value"
        return None

    def save_channel(
        self, kind: ChannelKind, values: dict[str, str], original_name: str | None
    ) -> None:
        if original_name:
            self.channels.pop((kind, original_name), None)
        self.channels[(kind, values["name"])] = dict(values)

    def remove_channel(self, kind: ChannelKind, name: str) -> None:
        del self.channels[(kind, name)]

    def test_connection(
        self,
        kind: ChannelKind,
        values: dict[str, str],
        on_step: Callable[[StepResult], None],
    ) -> bool:
        on_step(StepResult("resolve host", True, values.get("host", "")))
        on_step(StepResult("connect", False, "connection refused: check host and port"))
        return False

    # Test helpers

    def add_change(self, kind: str, ticket_id: int | None, summary: str = "") -> None:
        self.changes.append(Change(len(self.changes) + 1, kind, ticket_id, summary))

    def add_ticket(self, customer: str, subject: str) -> FeedRow:
        number = max(r.number for r in self.rows) + 1 if self.rows else 1001
        row = FeedRow(
            ticket_id=number - 1000,
            number=number,
            status="open",
            channel="support",
            customer=customer,
            subject=subject,
            message_count=1,
            last_activity=self.now,
        )
        self.rows.append(row)
        self.messages[row.ticket_id] = self._make_messages(row)
        self.add_change("ticket-created", row.ticket_id, f"#{number} {subject}")
        return row
