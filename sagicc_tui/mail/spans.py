"""Byte ranges of MIME parts in the raw message, to return enclosed mail exactly."""

from __future__ import annotations

import binascii
import quopri
import re
from email.message import Message

from sagicc_tui.mail.classify import parse_content_type
from sagicc_tui.mail.headers import split_headers

_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})


def _path_to(message: Message, target: Message) -> list[int] | None:
    """Return the child positions from ``message`` down to ``target``."""
    if message is target:
        return []
    payload = message.get_payload()
    if not isinstance(payload, list):
        return None
    for position, child in enumerate(payload):
        if isinstance(child, Message):
            rest = _path_to(child, target)
            if rest is not None:
                return [position, *rest]
    return None


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


def _body_span(raw: bytes, start: int, end: int) -> tuple[int, int]:
    return start + split_headers(raw[start:end]).body_offset, end


def enclosed_message_bytes(raw: bytes, message: Message, part: Message) -> bytes | None:
    """Return the enclosed message of a message/* ``part`` as it is in ``raw``.

    ``message`` is ``raw`` parsed by the email package and ``part`` one of
    its parts. Returns None when the raw structure does not match the parsed
    one (broken boundaries), so the caller can fall back.
    """
    path = _path_to(message, part)
    if path is None:
        return None

    start, end = 0, len(raw)
    node = message
    for position in path:
        headers = split_headers(raw[start:end])
        media_type, params = parse_content_type(headers.first("content-type"))
        boundary = params.get("boundary")
        children = node.get_payload()
        if not media_type.startswith("multipart/") or not boundary:
            return None
        spans = _child_spans(raw, *_body_span(raw, start, end), boundary)
        if len(spans) != len(children):
            return None
        start, end = spans[position]
        node = children[position]

    headers = split_headers(raw[start:end])
    body = raw[start + headers.body_offset : end]
    encoding = (headers.first("content-transfer-encoding") or "").strip().lower()
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
