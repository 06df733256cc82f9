"""Raw bytes to a MessageRecord: the headers pass, then the body pass on request."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from datetime import UTC, datetime

from sagicc_tui.mail.body import parse_body
from sagicc_tui.mail.classify import classify, is_list_mail
from sagicc_tui.mail.enclosed import find_enclosed_ids, may_enclose_messages
from sagicc_tui.mail.headers import (
    HeaderBlock,
    decode_header_text,
    parse_addresses,
    parse_date,
    parse_message_id,
    parse_message_ids,
    split_headers,
)
from sagicc_tui.mail.record import MessageKind, MessageRecord, RecordFlag

logger = logging.getLogger(__name__)

# Domain of ids derived from raw bytes. RFC 2606 reserves ".invalid", so no
# conforming sender's id ends with it and derived ids do not collide with them.
DERIVED_ID_DOMAIN = "sagicc.invalid"


def derived_message_id(raw: bytes) -> str:
    """Return the stable id used for a message without a Message-ID."""
    return f"{hashlib.sha256(raw).hexdigest()[:40]}@{DERIVED_ID_DOMAIN}"


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    raise TypeError(f"raw message must be bytes, not {type(raw).__name__}")


def _arrival_utc(arrival: datetime | None) -> datetime:
    if arrival is None:
        return datetime.now(UTC)
    if arrival.tzinfo is None:
        return arrival.replace(tzinfo=UTC)
    return arrival.astimezone(UTC)


def _thread_index(value: str | None, flags: set[RecordFlag]) -> bytes | None:
    if not value:
        return None
    compact = "".join(value.split())
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        flags.add(RecordFlag.MALFORMED_HEADER)
        return None


def _original_message_ids(
    headers: HeaderBlock, channel: str, flags: set[RecordFlag]
) -> list[str]:
    found: list[str] = []
    for name in ("original-message-id", "x-original-message-id"):
        for value in headers.all(name):
            found.extend(parse_message_ids(value, channel, flags))
    return list(dict.fromkeys(found))


def _fill_from_headers(
    record: MessageRecord, headers: HeaderBlock, encoding: str, arrival: datetime
) -> None:
    """Set every header-derived field of ``record`` and classify it."""
    flags = record.flags
    if headers.malformed:
        flags.add(RecordFlag.MALFORMED_HEADER)

    message_id = parse_message_id(headers.first("message-id"), encoding, flags)
    if message_id is None:
        flags.add(RecordFlag.NO_MESSAGE_ID)
        message_id = derived_message_id(record.raw)
    record.message_id = message_id

    date = parse_date(headers.first("date"))
    if date is None:
        flags.add(RecordFlag.NO_DATE)
        date = arrival
    record.date = date

    record.subject = decode_header_text(headers.first("subject") or "", encoding, flags)
    senders = parse_addresses(headers.first("from"), encoding, flags)
    record.from_addr = senders[0] if senders else None
    record.reply_to = parse_addresses(headers.first("reply-to"), encoding, flags)
    record.to = [
        a for v in headers.all("to") for a in parse_addresses(v, encoding, flags)
    ]
    record.cc = [
        a for v in headers.all("cc") for a in parse_addresses(v, encoding, flags)
    ]

    record.in_reply_to = parse_message_ids(
        headers.first("in-reply-to"), encoding, flags
    )
    record.references = parse_message_ids(
        " ".join(headers.all("references")), encoding, flags
    )
    record.thread_index = _thread_index(headers.first("thread-index"), flags)
    topic = headers.first("thread-topic")
    record.thread_topic = (
        None if topic is None else decode_header_text(topic, encoding, flags)
    )
    thrid = headers.first("x-gm-thrid")
    record.gm_thrid = thrid.strip() if thrid else None

    record.is_list = is_list_mail(headers)
    record.kind = classify(headers, record.from_addr, record.is_list)
    if record.kind is MessageKind.BOUNCE:
        record.returned_message_ids = _original_message_ids(headers, encoding, flags)


def _unparseable(raw: bytes, arrival: datetime, size: int) -> MessageRecord:
    return MessageRecord(
        raw=raw,
        message_id=derived_message_id(raw),
        date=arrival,
        size=size,
        flags={RecordFlag.UNPARSEABLE, RecordFlag.NO_MESSAGE_ID, RecordFlag.NO_DATE},
    )


def parse_message(
    raw: bytes,
    *,
    encoding: str = "utf-8",
    arrival: datetime | None = None,
    max_size: int | None = None,
    with_body: bool = True,
    size: int | None = None,
) -> MessageRecord:
    """Parse a raw message into a record; never raises, ``raw`` is kept as given.

    ``encoding`` is the channel encoding, used for raw 8-bit headers and for
    text parts whose charset is missing or wrong. ``arrival`` stands in for a
    missing or broken Date (default: now). ``size`` is the full message size
    when ``raw`` holds only the headers of a large message (an IMAP fetch of
    the header part); the default is ``len(raw)``. A message over
    ``max_size`` gets ``OVERSIZE`` and its body is not parsed. With
    ``with_body=False`` only headers are read, except that bounces and mail
    with an enclosed message part get their returned or forwarded
    Message-IDs, which grouping needs; :func:`parse_body` fills the rest
    later. Input without a single header field is ``UNPARSEABLE``.
    """
    arrival_utc = _arrival_utc(arrival)
    try:
        raw = _as_bytes(raw)
    except TypeError:
        logger.warning("parse_message got %s instead of bytes", type(raw).__name__)
        raw = b""

    full_size = max(size or 0, len(raw))
    record = _parse_headers(raw, encoding, arrival_utc, full_size)
    if max_size is not None and full_size > max_size:
        record.flags.add(RecordFlag.OVERSIZE)
        return record
    if with_body:
        parse_body(record, encoding=encoding)
    elif RecordFlag.UNPARSEABLE not in record.flags and may_enclose_messages(record):
        _find_enclosed_ids(record, encoding)
    return record


def _find_enclosed_ids(record: MessageRecord, encoding: str) -> None:
    try:
        find_enclosed_ids(record, encoding)
    except Exception:
        # The ids only add links; the record is complete without them.
        logger.warning(
            "enclosed ids of %s could not be read", record.message_id, exc_info=True
        )


def _parse_headers(
    raw: bytes, encoding: str, arrival: datetime, full_size: int
) -> MessageRecord:
    try:
        headers = split_headers(raw)
        if not headers.fields:
            return _unparseable(raw, arrival, full_size)
        record = MessageRecord(raw=raw, message_id="", date=arrival, size=full_size)
        _fill_from_headers(record, headers, encoding, arrival)
        return record
    except Exception:
        # Any input must yield a record; a parser bug must not lose a message.
        logger.warning(
            "headers of a %d-byte message could not be parsed", len(raw), exc_info=True
        )
        return _unparseable(raw, arrival, full_size)
