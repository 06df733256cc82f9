"""Small raw messages and store fixtures for the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagicc_tui.store import OutboxItem, TicketStore

BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def raw_message(
    message_id: str | None,
    *,
    sender: str = "Ann Customer <ann@example.com>",
    to: str = "Support <help@shop.example>",
    subject: str = "Printer broken",
    body: str = "My printer does not print.",
    minutes: int = 0,
    in_reply_to: str | None = None,
    references: str | None = None,
    extra_headers: str = "",
) -> bytes:
    """Build a plain-text message; ``minutes`` after BASE_TIME is its Date."""
    date = format_datetime(BASE_TIME + timedelta(minutes=minutes))
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {date}"]
    if message_id is not None:
        headers.append(f"Message-ID: <{message_id}>")
    if in_reply_to:
        headers.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        headers.append(f"References: {references}")
    headers.append("MIME-Version: 1.0")
    headers.append('Content-Type: text/plain; charset="utf-8"')
    text = "\r\n".join(headers) + "\r\n" + extra_headers + "\r\n" + body + "\r\n"
    return text.encode("utf-8")


def queue_to_ann(
    store: TicketStore, raw: bytes, ticket_id: int | None, who: str = "alice"
) -> OutboxItem:
    """Queue ``raw`` from help@shop.example to ann@example.com."""
    return store.queue_outgoing(
        outgoing_channel="smtp",
        raw=raw,
        mail_from="help@shop.example",
        rcpt_to=["ann@example.com"],
        who=who,
        ticket_id=ticket_id,
    )


class StepClock:
    """A clock tests move by hand; starts one day after BASE_TIME."""

    def __init__(self, start: datetime = BASE_TIME + timedelta(days=1)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
