"""Message-IDs of enclosed messages: forwarded originals and bounced mail."""

from __future__ import annotations

import email
import re
from email.message import Message
from email.policy import compat32

from sagicc_tui.mail.headers import parse_message_id, split_headers
from sagicc_tui.mail.record import MessageKind, MessageRecord, RecordFlag

# Parts that carry a whole message or only its header block (RFC 3462, 6533).
MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
HEADER_TYPES = frozenset({"text/rfc822-headers", "message/global-headers"})

_QUOTED_MESSAGE_ID = re.compile(r"(?im)^[ \t>]*message-id:[ \t]*(<[^<>\r\n]+>)")
_ENCLOSING_MARKERS = (b"rfc822", b"RFC822", b"/global", b"/GLOBAL")
_ENCLOSING_TYPE = re.compile(
    rb"(?i)content-type:\s*(message/(rfc822|global)|text/rfc822-headers)"
)


def load_message(raw: bytes) -> Message:
    """Parse ``raw`` with the email package's compat32 policy.

    compat32 is about four times faster than ``email.policy.default`` and
    keeps header values as written, which the decoders here need.
    """
    return email.message_from_bytes(raw, policy=compat32)


def payload_bytes(part: Message) -> bytes:
    """Return the decoded payload of a leaf part (empty if there is none)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def enclosed_message_id(
    part: Message, channel: str, flags: set[RecordFlag]
) -> str | None:
    """Return the Message-ID of a message/rfc822 or text/rfc822-headers part."""
    content_type = part.get_content_type()
    if content_type in HEADER_TYPES:
        headers = split_headers(payload_bytes(part) + b"\n\n")
        return parse_message_id(headers.first("message-id"), channel, flags)
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        value = payload[0].get("message-id")
        return parse_message_id(None if value is None else str(value), channel, flags)
    return None


def _quoted_message_ids(raw: bytes) -> list[str]:
    """Return Message-IDs quoted in a message body, for bounces without a part.

    Plain-text bounces (qmail, older Exchange) quote the returned headers in
    the text, and a broken boundary can hide a text/rfc822-headers part, so
    the undecoded body is searched. Base64-encoded text is not searched.
    """
    body = raw[split_headers(raw).body_offset :].decode("latin-1")
    return [found.strip("<>").strip() for found in _QUOTED_MESSAGE_ID.findall(body)]


def apply_enclosed_ids(record: MessageRecord, enclosed_ids: list[str]) -> None:
    """Store enclosed ids as returned (bounces) or forwarded (other mail)."""
    if record.kind is not MessageKind.BOUNCE:
        record.forwarded_message_ids = list(dict.fromkeys(enclosed_ids))
        return
    if not enclosed_ids:
        enclosed_ids = _quoted_message_ids(record.raw)
    merged = dict.fromkeys([*record.returned_message_ids, *enclosed_ids])
    record.returned_message_ids = [i for i in merged if i != record.message_id]


def may_enclose_messages(record: MessageRecord) -> bool:
    """Return True when the headers pass should look for enclosed ids.

    True for bounces and for mail with a part declared as an enclosed
    message, found by a byte search that costs far less than a MIME parse.
    """
    if record.kind is MessageKind.BOUNCE:
        return True

    # Plain substring searches first: ten times faster than the regex.
    raw = record.raw
    if not any(marker in raw for marker in _ENCLOSING_MARKERS):
        return False
    return _ENCLOSING_TYPE.search(raw) is not None


def collect_enclosed_ids(
    message: Message, channel: str, flags: set[RecordFlag]
) -> list[str]:
    """Return the ids of enclosed messages in walk order, not nested ones."""
    found = []
    nested: set[int] = set()
    for part in message.walk():
        if id(part) in nested:
            continue
        content_type = part.get_content_type()
        if content_type.startswith("message/"):
            # The email package parses message/rfc822 parts, and also the
            # status blocks of message/delivery-status, into sub-messages.
            nested |= {id(sub) for sub in part.walk() if sub is not part}
        if content_type in MESSAGE_TYPES or content_type in HEADER_TYPES:
            enclosed_id = enclosed_message_id(part, channel, flags)
            if enclosed_id:
                found.append(enclosed_id)
    return found


def find_enclosed_ids(record: MessageRecord, channel: str) -> None:
    """Fill forwarded or returned Message-IDs without the rest of the body pass.

    Grouping links a bounce to the message it returns and a forward to its
    original from these ids, so the headers pass fills them for the few
    messages where :func:`may_enclose_messages` is True.
    """
    message = load_message(record.raw)
    apply_enclosed_ids(record, collect_enclosed_ids(message, channel, record.flags))
