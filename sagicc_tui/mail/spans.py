"""Byte ranges of MIME parts in the raw message, to return enclosed mail exactly."""

from __future__ import annotations

import binascii
import quopri
import re
from email.message import Message

from sagicc_tui.mail.classify import parse_content_type
from sagicc_tui.mail.headers import split_headers

_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})

# Header blocks of MIME parts are read from at most this many bytes.
_PART_HEADER_BYTES = 64 * 1024

PartSpans = dict[int, tuple[int, int]]


def _child_spans(
    raw: bytes, start: int, end: int, boundary: str
) -> list[tuple[int, int]]:
    """Return the byte ranges between the boundary lines of one multipart body.

    The line break before a boundary line belongs to the boundary (RFC 2046).
    A missing close boundary lets the last part run to ``end``, as the email
    package does.
    """
    delimiter = re.compile(
        rb"^--"
        + re.escape(boundary.encode("utf-8", "surrogateescape"))
        + rb"(--)?[ \t]*(?:\r?\n|$)",
        re.MULTILINE,
    )
    spans = []
    part_start: int | None = None
    for match in delimiter.finditer(raw, start, end):
        if part_start is not None:
            part_end = match.start()
            if raw[part_end - 2 : part_end] == b"\r\n":
                part_end -= 2
            elif raw[part_end - 1 : part_end] == b"\n":
                part_end -= 1
            spans.append((part_start, max(part_start, part_end)))
        if match.group(1):
            return spans
        part_start = match.end()
    if part_start is not None:
        spans.append((part_start, end))
    return spans


def _headers_and_body(raw: bytes, start: int, end: int) -> tuple[dict, int]:
    """Return a part's header fields and the offset where its body starts."""
    headers = split_headers(raw[start : min(end, start + _PART_HEADER_BYTES)])
    return headers.fields, start + headers.body_offset


def map_part_spans(raw: bytes, message: Message) -> PartSpans:
    """Return the byte range in ``raw`` of every part of ``message`` by ``id()``.

    ``message`` is ``raw`` parsed by the email package. Parts whose range
    cannot be matched with the parsed structure (broken boundaries, an
    encoded enclosed message) are left out. Each nesting level scans its
    body once, so the cost does not grow with the square of the part count.
    """
    spans: PartSpans = {}
    pending = [(message, 0, len(raw))]
    while pending:
        node, start, end = pending.pop()
        spans[id(node)] = (start, end)
        children = node.get_payload()
        if not isinstance(children, list) or not children:
            continue

        fields, body_start = _headers_and_body(raw, start, end)
        content_type = (fields.get("content-type") or [None])[0]
        media_type, params = parse_content_type(content_type)
        encoding = (fields.get("content-transfer-encoding") or [""])[0]
        if media_type.startswith("multipart/") and params.get("boundary"):
            child_spans = _child_spans(raw, body_start, end, params["boundary"])
            if len(child_spans) == len(children):
                pairs = zip(children, child_spans, strict=True)
                pending.extend((child, *span) for child, span in pairs)
        elif media_type.startswith("message/") and len(children) == 1:
            # An unencoded message/rfc822 body is the enclosed message itself.
            if encoding.strip().lower() in _IDENTITY_ENCODINGS:
                pending.append((children[0], body_start, end))
    return spans


def enclosed_message_bytes(raw: bytes, spans: PartSpans, part: Message) -> bytes | None:
    """Return the content of a message/* ``part`` as it is in ``raw``.

    ``spans`` comes from :func:`map_part_spans`. Returns None when the part's
    range is unknown, so the caller can fall back to the parsed form.
    """
    span = spans.get(id(part))
    if span is None:
        return None
    fields, body_start = _headers_and_body(raw, *span)
    body = raw[body_start : span[1]]
    encoding = (fields.get("content-transfer-encoding") or [""])[0].strip().lower()
    if encoding in _IDENTITY_ENCODINGS:
        return body
    try:
        if encoding == "base64":
            return binascii.a2b_base64(body)
        if encoding == "quoted-printable":
            return quopri.decodestring(body)
    except binascii.Error:
        return None
    return None
