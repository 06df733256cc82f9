"""The body pass: body text, attachments, forwarded and returned Message-IDs."""

from __future__ import annotations

import io
import logging
import re
from email.generator import BytesGenerator
from email.message import Message

from sagicc_tui.mail.charsets import decode_bytes, decode_fallback
from sagicc_tui.mail.enclosed import (
    MESSAGE_TYPES,
    apply_enclosed_ids,
    collect_enclosed_ids,
    load_message,
    payload_bytes,
)
from sagicc_tui.mail.headers import decode_header_text
from sagicc_tui.mail.html_text import html_to_text
from sagicc_tui.mail.params import Parameter, parse_parameters
from sagicc_tui.mail.record import Attachment, MessageRecord, RecordFlag
from sagicc_tui.mail.spans import PartSpans, enclosed_message_bytes, map_part_spans

logger = logging.getLogger(__name__)

# <meta charset="x"> or <meta http-equiv=... content="text/html; charset=x">.
_META_CHARSET = re.compile(rb"""(?i)<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""")


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
    if content_type in MESSAGE_TYPES or _is_attachment(part):
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


def _charset(part: Message, data: bytes) -> str | None:
    """Return the part's declared charset, for HTML also from a <meta> tag."""
    found = _parameters(part, "content-type").get("charset")
    if found is not None and found.value:
        return found.value
    if part.get_content_type() == "text/html":
        meta = _META_CHARSET.search(data, 0, 4096)
        if meta is not None:
            return meta.group(1).decode("ascii")
    return None


def _part_text(part: Message, channel: str, flags: set[RecordFlag]) -> str:
    data = payload_bytes(part)
    text = decode_bytes(data, _charset(part, data), channel, flags)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    return text


def _linesep(raw: bytes) -> str:
    return "\r\n" if b"\r\n" in raw[:4096] else "\n"


def _regenerated_bytes(part: Message, linesep: str) -> bytes:
    """Return the content of a message/* part that the email package parsed
    into sub-messages (the enclosed message, or delivery-status blocks).

    The email package does not keep those bytes, so they are regenerated.
    Folding and line endings may differ from the original.
    """
    payload = part.get_payload()
    if not isinstance(payload, list):
        return payload_bytes(part)
    buffer = io.BytesIO()
    generator = BytesGenerator(buffer, mangle_from_=False, maxheaderlen=0)
    for inner in payload:
        generator.flatten(inner, linesep=linesep)
    return buffer.getvalue()


def _part_bytes(raw: bytes, spans: PartSpans, part: Message) -> bytes:
    """Return a part's decoded content; a message/* part's as it is in ``raw``.

    Broken boundaries can hide the raw bytes of a message/* part, and then
    they are regenerated from the parsed form.
    """
    if not part.get_content_type().startswith("message/"):
        return payload_bytes(part)
    exact = enclosed_message_bytes(raw, spans, part)
    return exact if exact is not None else _regenerated_bytes(part, _linesep(raw))


def _descendants(part: Message) -> set[int]:
    return {id(sub) for sub in part.walk() if sub is not part}


def _attachment(
    part: Message, index: int, size: int, flags: set[RecordFlag], channel: str
) -> Attachment:
    content_id = part.get("content-id")
    if content_id is not None:
        content_id = str(content_id).strip().strip("<>").strip() or None
    disposition = _disposition(part)
    return Attachment(
        filename=_filename(part, channel, flags),
        content_type=part.get_content_type(),
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


def _collect(record: MessageRecord, message: Message, channel: str) -> None:
    """Fill body text, attachments and enclosed Message-IDs from a parsed tree."""
    flags = record.flags
    body_parts = _select_body_parts(message)
    body_ids = {id(part) for part in body_parts} | _alternative_text_ids(message)
    texts = [_part_text(part, channel, flags).strip("\n") for part in body_parts]
    record.body_text = "\n\n".join(text for text in texts if text)

    spans = map_part_spans(record.raw, message)
    inside_enclosed: set[int] = set()
    record.attachments = []
    for index, part in enumerate(message.walk()):
        if id(part) in inside_enclosed or id(part) in body_ids:
            continue
        content_type = part.get_content_type()
        if content_type.startswith("multipart/"):
            continue
        if content_type.startswith("message/"):
            # An enclosed message is one attachment, not one per inner part.
            inside_enclosed |= _descendants(part)
        size = len(_part_bytes(record.raw, spans, part))
        record.attachments.append(_attachment(part, index, size, flags, channel))

    apply_enclosed_ids(record, collect_enclosed_ids(message, channel, flags))


def parse_body(record: MessageRecord, encoding: str = "utf-8") -> None:
    """Fill ``body_text``, ``attachments`` and enclosed ids, then set ``body_parsed``.

    The Message-ID of a bounced message comes from its message/rfc822 or
    text/rfc822-headers part, or from the quoted headers of a plain-text
    bounce, and is added to ``returned_message_ids``. The headers pass
    already did this for bounces, so here it only repeats. An ``OVERSIZE``
    record is left as it is, with ``body_parsed`` False. An unparseable
    record gets its raw bytes, decoded, as body text. Never raises: a body
    the email package cannot read adds ``UNPARSEABLE``.
    """
    if RecordFlag.OVERSIZE in record.flags:
        return
    if RecordFlag.UNPARSEABLE in record.flags:
        record.body_text = decode_fallback(record.raw, encoding, record.flags)
        record.body_parsed = True
        return

    try:
        _collect(record, load_message(record.raw), encoding)
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
    part returns the enclosed message byte for byte, unless broken
    boundaries hide it; then it is regenerated from the parsed form.
    """
    message = load_message(raw)
    for index, part in enumerate(message.walk()):
        if index == part_index:
            return _part_bytes(raw, map_part_spans(raw, message), part)
    raise IndexError(f"message has no MIME part {part_index}; see the attachment list")
