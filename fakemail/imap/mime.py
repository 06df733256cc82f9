"""Byte-exact MIME structure of stored messages for FETCH sections and BODYSTRUCTURE.

Parts are found by splitting the raw bytes at boundaries, never by
re-serialising a parsed message, so ``BODY[1.2]`` returns exactly the bytes
the sender wrote. The structure of a message is parsed on first use and
cached on the message (``Message.cache["mime"]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import getaddresses

from fakemail.imap.syntax import quote
from fakemail.mailstore import Message

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_HEADER_START = re.compile(rb"^(?=[^ \t\r\n])", re.MULTILINE)


@dataclass
class Part:
    """One MIME entity: its header block, body and sub-parts."""

    header: bytes
    body: bytes
    fields: list[tuple[bytes, bytes]]
    maintype: str = "text"
    subtype: str = "plain"
    params: list[tuple[str, str]] = field(default_factory=list)
    children: list[Part] = field(default_factory=list)
    message: Part | None = None

    def get(self, name: bytes) -> bytes | None:
        """Return the unfolded value of the first header field ``name``."""
        lowered = name.lower()
        for field_name, value in self.fields:
            if field_name.lower() == lowered:
                return value
        return None

    def text(self) -> bytes:
        return self.body


def structure(message: Message) -> Part:
    """Return the parsed MIME tree of ``message``, parsing it once."""
    part = message.cache.get("mime")
    if part is None:
        part = parse(message.raw)
        message.cache["mime"] = part
    return part


def parse(raw: bytes, default: tuple[str, str] = ("text", "plain")) -> Part:
    """Split ``raw`` into header and body and parse multiparts recursively."""
    if raw.startswith(b"\r\n"):
        header, body = b"\r\n", raw[2:]
    else:
        match = _BLANK_LINE.search(raw)
        if match is None:
            header, body = raw, b""
        else:
            header, body = raw[: match.end()], raw[match.end() :]
    part = Part(header=header, body=body, fields=parse_fields(header))
    part.maintype, part.subtype = default
    content_type = part.get(b"content-type")
    if content_type is not None:
        kind, params = _parse_content_type(content_type.decode("utf-8", "replace"))
        if "/" in kind:
            part.maintype, part.subtype = kind.split("/", 1)
            part.params = params
    elif default == ("text", "plain"):
        part.params = [("charset", "us-ascii")]
    if part.maintype.lower() == "multipart":
        boundary = dict((k.lower(), v) for k, v in part.params).get("boundary")
        child_default = (
            ("message", "rfc822")
            if part.subtype.lower() == "digest"
            else ("text", "plain")
        )
        if boundary:
            part.children = [
                parse(chunk, child_default) for chunk in _split(body, boundary)
            ]
    elif (part.maintype.lower(), part.subtype.lower()) == ("message", "rfc822"):
        part.message = parse(body)
    return part


def parse_fields(header: bytes) -> list[tuple[bytes, bytes]]:
    """Return (name, unfolded value) pairs of a header block."""
    fields = []
    for chunk in _HEADER_START.split(header):
        name, sep, value = chunk.partition(b":")
        if not sep or not name.strip() or b" " in name.strip():
            continue
        value = re.sub(rb"\r?\n[ \t]", b" ", value.rstrip(b"\r\n")).strip()
        fields.append((name.strip(), value))
    return fields


def header_lines(header: bytes) -> list[tuple[bytes, bytes]]:
    """Return (field name, raw field with folding and CRLF) in header order."""
    lines = []
    if header.endswith(b"\r\n\r\n"):
        header = header[:-2]
    for chunk in _HEADER_START.split(header):
        name, sep, _ = chunk.partition(b":")
        if sep and chunk.strip():
            lines.append((name.strip().lower(), chunk))
    return lines


def _split(body: bytes, boundary: str) -> list[bytes]:
    delimiter = re.compile(
        rb"(?:\A|\r?\n)--"
        + re.escape(boundary.encode("utf-8", "replace"))
        + rb"(--)?[ \t]*(?:\r?\n|\Z)"
    )
    chunks: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            chunks.append(body[start : match.start()])
        if match.group(1):
            return chunks
        start = match.end()
    if start is not None:
        chunks.append(body[start:])
    return chunks


def _parse_content_type(value: str) -> tuple[str, list[tuple[str, str]]]:
    pieces = _split_params(value)
    kind = pieces[0].strip().lower() if pieces else ""
    params = []
    for piece in pieces[1:]:
        name, sep, raw = piece.partition("=")
        if not sep or not name.strip():
            continue
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params.append((name.strip().lower(), raw))
    return kind, params


def _split_params(value: str) -> list[str]:
    pieces, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return pieces


def find(root: Part, numbers: list[int]) -> Part | None:
    """Return the part addressed by section numbers such as [1, 2]."""
    part = root
    for depth, number in enumerate(numbers):
        container = part.message if depth > 0 and part.message is not None else part
        if container.children:
            if number > len(container.children):
                return None
            part = container.children[number - 1]
        elif number == 1:
            part = container
        else:
            return None
    return part


def count_lines(data: bytes) -> int:
    """Return the body-fld-lines value: the LFs in ``data``, as Dovecot 2.3 counts."""
    return data.count(b"\n")


def envelope(part: Part) -> bytes:
    """Return the ENVELOPE structure of a message part."""

    def value(name: bytes) -> bytes:
        return quote(part.get(name))

    sender = _addresses(part, b"from")
    fields = [
        value(b"date"),
        value(b"subject"),
        sender,
        _addresses(part, b"sender") if part.get(b"sender") else sender,
        _addresses(part, b"reply-to") if part.get(b"reply-to") else sender,
        _addresses(part, b"to"),
        _addresses(part, b"cc"),
        _addresses(part, b"bcc"),
        value(b"in-reply-to"),
        value(b"message-id"),
    ]
    return b"(" + b" ".join(fields) + b")"


def _addresses(part: Part, name: bytes) -> bytes:
    raw = part.get(name)
    if raw is None:
        return b"NIL"
    pairs = getaddresses([raw.decode("utf-8", "surrogateescape")])
    items = []
    for display, address in pairs:
        if not address and not display:
            continue
        mailbox, at, host = address.rpartition("@")
        if not at:
            mailbox, host = address, ""
        items.append(
            b"("
            + _nil_or(display)
            + b" NIL "
            + _nil_or(mailbox)
            + b" "
            + _nil_or(host)
            + b")"
        )
    return b"(" + b"".join(items) + b")" if items else b"NIL"


def _nil_or(text: str) -> bytes:
    return quote(text.encode("utf-8", "surrogateescape")) if text else b"NIL"


def bodystructure(part: Part, extended: bool = True) -> bytes:
    """Return BODYSTRUCTURE (``extended``) or BODY for ``part``."""
    if part.children:
        inner = b"".join(bodystructure(child, extended) for child in part.children)
        items = [inner, quote(part.subtype)]
        if extended:
            items += [
                _params(part.params),
                _disposition(part),
                quote(part.get(b"content-language")),
                quote(part.get(b"content-location")),
            ]
        return b"(" + b" ".join(items) + b")"
    encoding = part.get(b"content-transfer-encoding")
    items = [
        quote(part.maintype),
        quote(part.subtype),
        _params(part.params),
        quote(part.get(b"content-id")),
        quote(part.get(b"content-description")),
        quote(encoding.decode("ascii", "replace") if encoding else "7bit"),
        b"%d" % len(part.body),
    ]
    if part.message is not None:
        items += [envelope(part.message), bodystructure(part.message, extended)]
        items.append(b"%d" % count_lines(part.body))
    elif part.maintype.lower() == "text":
        items.append(b"%d" % count_lines(part.body))
    if extended:
        items += [
            quote(part.get(b"content-md5")),
            _disposition(part),
            quote(part.get(b"content-language")),
            quote(part.get(b"content-location")),
        ]
    return b"(" + b" ".join(items) + b")"


def _params(params: list[tuple[str, str]]) -> bytes:
    if not params:
        return b"NIL"
    return b"(" + b" ".join(quote(k) + b" " + quote(v) for k, v in params) + b")"


def _disposition(part: Part) -> bytes:
    value = part.get(b"content-disposition")
    if value is None:
        return b"NIL"
    kind, params = _parse_content_type(value.decode("utf-8", "replace"))
    return b"(" + quote(kind) + b" " + _params(params) + b")"
