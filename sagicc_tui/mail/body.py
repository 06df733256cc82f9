"""The body pass: body text, attachments, forwarded and returned Message-IDs."""

from __future__ import annotations

import email
import io
import logging
import re
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32

from sagicc_tui.mail.charsets import decode_bytes, decode_fallback
from sagicc_tui.mail.headers import decode_header_text, parse_message_id, split_headers
from sagicc_tui.mail.html_text import html_to_text
from sagicc_tui.mail.params import Parameter, parse_parameters
from sagicc_tui.mail.record import Attachment, MessageKind, MessageRecord, RecordFlag

logger = logging.getLogger(__name__)

# Parts that carry a whole message or only its header block (RFC 3462, 6533).
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_HEADER_TYPES = frozenset({"text/rfc822-headers", "message/global-headers"})
_QUOTED_MESSAGE_ID = re.compile(r"(?im)^[ \t>]*message-id:[ \t]*(<[^<>\r\n]+>)")


def _load(raw: bytes) -> Message:
    # compat32 is about four times faster than email.policy.default and keeps
    # header values as written, which the decoders here need.
    return email.message_from_bytes(raw, policy=compat32)


def _disposition(part: Message) -> str:
    return (part.get_content_disposition() or "").lower()


def _raw_field(part: Message, name: str) -> str | None:
    # raw_items() keeps 8-bit bytes as surrogate escapes; part.get() would
    # turn them into U+FFFD before they can be decoded in the right charset.
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _parameters(part: Message, field_name: str) -> dict[str, Parameter]:
    value = _raw_field(part, field_name)
    return {} if value is None else parse_parameters(value)[1]


def _filename(part: Message, channel: str, flags: set[RecordFlag]) -> str:
    """Return the decoded file name from Content-Disposition or Content-Type."""
    for field_name, param in (
        ("content-disposition", "filename"),
        ("content-type", "name"),
    ):
        found = _parameters(part, field_name).get(param)
        if found is None:
            continue
        if found.extended:
            return decode_bytes(found.data, found.charset, channel, flags).strip()
        return decode_header_text(found.value, channel, flags).strip()
    return ""


def _is_attachment(part: Message) -> bool:
    if _disposition(part) == "attachment":
        return True
    if "filename" in _parameters(part, "content-disposition"):
        return True
    return "name" in _parameters(part, "content-type")


def _select_body_parts(part: Message) -> list[Message]:
    """Return the parts that make up the readable body, plain text preferred."""
    content_type = part.get_content_type()
    if content_type in _MESSAGE_TYPES or _is_attachment(part):
        return []
    if content_type.startswith("text/"):
        return [part] if content_type in ("text/plain", "text/html") else []
    if not content_type.startswith("multipart/") or not isinstance(
        part.get_payload(), list
    ):
        return []

    children = part.get_payload()
    if content_type == "multipart/alternative":
        for child in children:
            if child.get_content_type() == "text/plain" and not _is_attachment(child):
                return [child]
        for child in reversed(children):
            chosen = _select_body_parts(child)
            if chosen:
                return chosen
        return []
    if content_type == "multipart/related" and children:
        # The first part is the root document; the rest are its resources.
        return _select_body_parts(children[0])

    chosen = []
    for child in children:
        chosen.extend(_select_body_parts(child))
    return chosen


def _charset(part: Message) -> str | None:
    found = _parameters(part, "content-type").get("charset")
    return found.value if found is not None and found.value else None


def _payload_bytes(part: Message) -> bytes:
    """Return the decoded payload of a leaf part (empty if there is none)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _part_text(part: Message, channel: str, flags: set[RecordFlag]) -> str:
    text = decode_bytes(_payload_bytes(part), _charset(part), channel, flags)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    return text


def _linesep(raw: bytes) -> str:
    return "\r\n" if b"\r\n" in raw[:4096] else "\n"


def _message_bytes(part: Message, linesep: str) -> bytes:
    """Return the content of a message/* part that the email package parsed
    into sub-messages (the enclosed message, or delivery-status blocks).

    NOTE: the email package does not keep those bytes, so they are
    regenerated. Folding and line endings may differ from the original.
    """
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _payload_bytes(part)
    buffer = io.BytesIO()
    generator = BytesGenerator(buffer, mangle_from_=False, maxheaderlen=0)
    for inner in payload:
        generator.flatten(inner, linesep=linesep)
    return buffer.getvalue()


def _descendants(part: Message) -> set[int]:
    return {id(sub) for sub in part.walk() if sub is not part}


def _enclosed_message_id(
    part: Message, channel: str, flags: set[RecordFlag]
) -> str | None:
    content_type = part.get_content_type()
    if content_type in _HEADER_TYPES:
        headers = split_headers(_payload_bytes(part) + b"\n\n")
        return parse_message_id(headers.first("message-id"), channel, flags)
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        value = payload[0].get("message-id")
        return parse_message_id(None if value is None else str(value), channel, flags)
    return None


def _attachment(
    part: Message, index: int, linesep: str, flags: set[RecordFlag], channel: str
) -> Attachment:
    content_type = part.get_content_type()
    if content_type.startswith("message/"):
        size = len(_message_bytes(part, linesep))
    else:
        size = len(_payload_bytes(part))
    content_id = part.get("content-id")
    if content_id is not None:
        content_id = str(content_id).strip().strip("<>").strip() or None
    disposition = _disposition(part)
    return Attachment(
        filename=_filename(part, channel, flags),
        content_type=content_type,
        size=size,
        content_id=content_id,
        inline=disposition == "inline"
        or (content_id is not None and disposition != "attachment"),
        part_index=index,
    )


def _alternative_text_ids(message: Message) -> set[int]:
    """Return the text parts inside multipart/alternative: one of them is the
    body and the others are other renderings of it, not attachments."""
    found = set()
    for part in message.walk():
        if part.get_content_type() != "multipart/alternative":
            continue
        for sub in part.walk():
            is_text = sub.get_content_type() in ("text/plain", "text/html")
            if is_text and not _is_attachment(sub):
                found.add(id(sub))
    return found


def _quoted_message_ids(raw: bytes) -> list[str]:
    """Return Message-IDs quoted in a message body, for bounces without a part.

    Plain-text bounces (qmail, older Exchange) quote the returned headers in
    the text, and a broken boundary can hide a text/rfc822-headers part, so
    the undecoded body is searched. Base64-encoded text is not searched.
    """
    body = raw[split_headers(raw).body_offset :].decode("latin-1")
    return [found.strip("<>").strip() for found in _QUOTED_MESSAGE_ID.findall(body)]


def _collect(record: MessageRecord, message: Message, channel: str) -> None:
    """Fill body text, attachments and enclosed Message-IDs from a parsed tree."""
    flags = record.flags
    body_parts = _select_body_parts(message)
    body_ids = {id(part) for part in body_parts} | _alternative_text_ids(message)
    texts = [_part_text(part, channel, flags).strip("\n") for part in body_parts]
    record.body_text = "\n\n".join(text for text in texts if text)

    linesep = _linesep(record.raw)
    inside_enclosed: set[int] = set()
    enclosed_ids: list[str] = []
    record.attachments = []
    for index, part in enumerate(message.walk()):
        if id(part) in inside_enclosed or id(part) in body_ids:
            continue
        content_type = part.get_content_type()
        if content_type.startswith("multipart/"):
            continue
        if content_type.startswith("message/"):
            # The email package parses message/rfc822 parts, and also the
            # status blocks of message/delivery-status, into sub-messages.
            inside_enclosed |= _descendants(part)
        if content_type in _MESSAGE_TYPES or content_type in _HEADER_TYPES:
            found = _enclosed_message_id(part, channel, flags)
            if found:
                enclosed_ids.append(found)
        record.attachments.append(_attachment(part, index, linesep, flags, channel))

    if record.kind is not MessageKind.BOUNCE:
        record.forwarded_message_ids = list(dict.fromkeys(enclosed_ids))
        return
    if not enclosed_ids:
        enclosed_ids = _quoted_message_ids(record.raw)
    merged = dict.fromkeys([*record.returned_message_ids, *enclosed_ids])
    record.returned_message_ids = [i for i in merged if i != record.message_id]


def parse_body(record: MessageRecord, encoding: str = "utf-8") -> None:
    """Fill ``body_text``, ``attachments`` and enclosed ids, then set ``body_parsed``.

    For a bounce the Message-ID of the returned message is found here, in the
    message/rfc822 or text/rfc822-headers part (or quoted in a plain-text
    bounce), and added to ``returned_message_ids``; the headers pass only
    adds Original-Message-ID fields. An ``OVERSIZE`` record is left as it is
    with ``body_parsed`` False. An unparseable record gets its raw bytes as
    body text. Never raises.
    """
    if RecordFlag.OVERSIZE in record.flags:
        return
    if RecordFlag.UNPARSEABLE in record.flags:
        record.body_text = decode_fallback(record.raw, encoding, record.flags)
        record.body_parsed = True
        return

    try:
        _collect(record, _load(record.raw), encoding)
    except Exception:
        # The headers are already usable; a body the email package or this
        # module cannot handle must not lose the message.
        logger.warning(
            "body of %s could not be parsed", record.message_id, exc_info=True
        )
        record.flags.add(RecordFlag.UNPARSEABLE)
    record.body_parsed = True


def attachment_bytes(raw: bytes, part_index: int) -> bytes:
    """Return the decoded bytes of the part at ``part_index`` (walk order).

    Raises IndexError when the message has no such part. A message/rfc822
    part returns the enclosed message (regenerated, see ``_message_bytes``).
    """
    message = _load(raw)
    for index, part in enumerate(message.walk()):
        if index != part_index:
            continue
        if part.get_content_type().startswith("message/"):
            return _message_bytes(part, _linesep(raw))
        return _payload_bytes(part)
    raise IndexError(f"message has no MIME part {part_index}; see the attachment list")
