"""Turn a parsed ``MessageRecord`` into the store's message row."""

from __future__ import annotations

import dataclasses

from sagicc_tui.mail.record import Address, MessageRecord
from sagicc_tui.store.models import Direction, to_epoch
from sagicc_tui.store.rows import NewMessage


def _addresses(addresses: list[Address]) -> list[str]:
    return [str(address) for address in addresses]


def _attachments(record: MessageRecord) -> list[dict[str, object]]:
    return [dataclasses.asdict(attachment) for attachment in record.attachments]


def message_row(
    record: MessageRecord,
    *,
    channel_id: int,
    direction: Direction,
    arrived_at: float,
    reason: str = "",
    folder: str | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
    extra_flags: set[str] | frozenset[str] = frozenset(),
) -> NewMessage:
    """Flatten ``record`` into a row; ``from_addr`` is stored lower case for lookups.

    The Date header is used as given, except that a date in the future is
    replaced by the arrival time so a wrong clock cannot pin a ticket on top
    of the feed.
    """
    sender = record.from_addr
    date = min(to_epoch(record.date), arrived_at)
    flags = sorted({str(flag) for flag in record.flags} | set(extra_flags))
    return NewMessage(
        channel_id=channel_id,
        message_id=record.message_id,
        direction=direction,
        kind=str(record.kind),
        from_addr=sender.key if sender else "",
        from_name=sender.name if sender else "",
        to_addrs=_addresses(record.to),
        cc_addrs=_addresses(record.cc),
        reply_to=_addresses(record.reply_to),
        participants=sorted(record.participants),
        subject=record.subject,
        date=date,
        arrived_at=arrived_at,
        in_reply_to=list(record.in_reply_to),
        references=list(record.references),
        thread_index=record.thread_index,
        flags=flags,
        raw=record.raw,
        size=record.size or len(record.raw),
        reason=reason,
        folder=folder,
        uidvalidity=uidvalidity,
        uid=uid,
        body_text=record.body_text if record.body_parsed else "",
        attachments=_attachments(record) if record.body_parsed else [],
    )


def customer_name(record: MessageRecord, customer: str) -> str:
    """Return the display name written next to ``customer`` in the message, if any."""
    for address in (record.from_addr, *record.reply_to, *record.to, *record.cc):
        if address is not None and address.key == customer and address.name:
            return address.name
    return ""
