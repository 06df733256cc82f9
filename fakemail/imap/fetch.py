"""FETCH: parsing the requested items and building the responses.

Responses are built as lists of byte strings joined once per message and
handed to the session in large chunks. MIME is parsed only when an item
needs it (ENVELOPE, BODYSTRUCTURE, a section other than ``BODY[]``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fakemail.imap import mime
from fakemail.imap.syntax import ParseError, Parser, astring, format_date_time
from fakemail.mailstore import Message

_NAME = re.compile(rb"[A-Za-z0-9.]+")
_SIMPLE = {
    b"FLAGS",
    b"UID",
    b"INTERNALDATE",
    b"RFC822.SIZE",
    b"ENVELOPE",
    b"BODYSTRUCTURE",
    b"RFC822",
    b"RFC822.HEADER",
    b"RFC822.TEXT",
}
_MACROS = {
    b"ALL": [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE"],
    b"FAST": [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"],
    b"FULL": [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE", b"BODY"],
}
_TEXTS = (b"HEADER.FIELDS.NOT", b"HEADER.FIELDS", b"HEADER", b"TEXT", b"MIME")


@dataclass
class Item:
    """One requested FETCH attribute."""

    kind: bytes
    key: bytes = b""
    numbers: list[int] = field(default_factory=list)
    text: bytes = b""
    fields: list[bytes] = field(default_factory=list)
    partial: tuple[int, int] | None = None
    peek: bool = True


def parse_items(parser: Parser) -> list[Item]:
    """Parse the attribute list that follows the sequence set."""
    if parser.skip(b"("):
        items: list[Item] = []
        while not parser.skip(b")"):
            if items:
                parser.space()
            items.append(_item(parser))
        if not items:
            raise ParseError("empty FETCH attribute list")
        return items
    name = _name(parser)
    if name in _MACROS:
        return [Item(kind=kind, key=kind) for kind in _MACROS[name]]
    parser.pos -= len(name)
    return [_item(parser)]


def _name(parser: Parser) -> bytes:
    match = _NAME.match(parser.data, parser.pos)
    if not match:
        raise ParseError(f"expected a FETCH attribute at position {parser.pos}")
    parser.pos = match.end()
    return match.group(0).upper()


def _item(parser: Parser) -> Item:
    name = _name(parser)
    if name in (b"BODY", b"BODY.PEEK") and parser.peek() == 0x5B:
        return _section(parser, peek=name == b"BODY.PEEK")
    if name == b"BODY":
        return Item(kind=b"BODY", key=b"BODY")
    if name not in _SIMPLE:
        raise ParseError(f"unknown FETCH attribute {name.decode()}")
    return Item(kind=name, key=name, peek=name != b"RFC822" and name != b"RFC822.TEXT")


def _section(parser: Parser, peek: bool) -> Item:
    parser.expect(b"[")
    start = parser.pos
    item = Item(kind=b"SECTION", peek=peek)
    while parser.peek() is not None and 0x30 <= parser.peek() <= 0x39:
        item.numbers.append(parser.number())
        if item.numbers[-1] == 0:
            raise ParseError("section part numbers start at 1")
        if not parser.skip(b"."):
            break
    if parser.peek() != 0x5D:
        item.text = next(
            (t for t in _TEXTS if parser.data[parser.pos :].upper().startswith(t)), b""
        )
        if not item.text:
            raise ParseError("invalid section in BODY[...]")
        parser.pos += len(item.text)
        if item.text == b"MIME" and not item.numbers:
            raise ParseError("MIME section needs a part number")
        if item.text.startswith(b"HEADER.FIELDS"):
            parser.space()
            parser.expect(b"(")
            while not parser.skip(b")"):
                if item.fields:
                    parser.space()
                item.fields.append(parser.astring())
            if not item.fields:
                raise ParseError("HEADER.FIELDS needs at least one field name")
    elif parser.data[parser.pos - 1 : parser.pos] == b".":
        raise ParseError("section ends with a dot")
    section = parser.data[start : parser.pos]
    parser.expect(b"]")
    item.key = b"BODY[" + _canonical(section, item) + b"]"
    if parser.skip(b"<"):
        offset = parser.number()
        parser.expect(b".")
        length = parser.number()
        parser.expect(b">")
        if length == 0:
            raise ParseError("partial length must be at least 1")
        item.partial = (offset, length)
        item.key += b"<%d>" % offset
    return item


def _canonical(section: bytes, item: Item) -> bytes:
    prefix = b".".join(b"%d" % n for n in item.numbers)
    text = item.text
    if item.fields:
        text += b" (" + b" ".join(astring(f).upper() for f in item.fields) + b")"
    if prefix and text:
        return prefix + b"." + text
    return prefix or text


def needs_seen(items: list[Item]) -> bool:
    """True when fetching ``items`` sets \\Seen (a non-PEEK body fetch)."""
    return any(not item.peek for item in items)


def section_data(message: Message, item: Item) -> bytes:
    """Return the bytes ``item`` selects from ``message``, partial range applied."""
    data = _whole_section(message, item)
    if item.partial is not None:
        offset, length = item.partial
        data = data[offset : offset + length]
    return data


def _whole_section(message: Message, item: Item) -> bytes:
    if not item.numbers and not item.text:
        return message.raw
    root = mime.structure(message)
    part = mime.find(root, item.numbers) if item.numbers else root
    if part is None:
        return b""
    if not item.text:
        return part.body
    if item.text == b"MIME":
        return part.header
    target = part.message if item.numbers else part
    if target is None:
        return b""
    if item.text == b"HEADER":
        return target.header
    if item.text == b"TEXT":
        return target.body
    requested = {name.lower() for name in item.fields}
    keep = item.text == b"HEADER.FIELDS"
    lines = [
        raw
        for name, raw in mime.header_lines(target.header)
        if (name in requested) == keep
    ]
    return b"".join(lines) + b"\r\n"


_LITERAL_KINDS = frozenset((b"SECTION", b"RFC822", b"RFC822.HEADER", b"RFC822.TEXT"))


def render(
    seq: int,
    message: Message,
    items: list[Item],
    flags: bytes,
    with_uid: bool,
    out: list[bytes],
) -> int:
    """Append one ``* seq FETCH (...)`` response to ``out``; return its literal bytes.

    Literal data is appended as its own element so that the message bytes
    are copied only once, when the caller joins a batch of responses.
    """
    text = b"* %d FETCH (" % seq
    separator = b""
    if with_uid:
        text += b"UID %d" % message.uid
        separator = b" "
    literal_bytes = 0
    for item in items:
        if item.kind in _LITERAL_KINDS:
            data = _literal_data(message, item)
            out.append(text + separator + b"%s {%d}\r\n" % (item.key, len(data)))
            out.append(data)
            literal_bytes += len(data)
            text = b""
        elif item.kind != b"UID" or not with_uid:
            text += separator + _attribute(message, item, flags)
        separator = b" "
    out.append(text + b")\r\n")
    return literal_bytes


def _attribute(message: Message, item: Item, flags: bytes) -> bytes:
    kind = item.kind
    if kind == b"UID":
        return b"UID %d" % message.uid
    if kind == b"FLAGS":
        return b"FLAGS " + flags
    if kind == b"INTERNALDATE":
        return b"INTERNALDATE " + format_date_time(message.internaldate)
    if kind == b"RFC822.SIZE":
        return b"RFC822.SIZE %d" % len(message.raw)
    if kind == b"ENVELOPE":
        return b"ENVELOPE " + _cached(message, "envelope", mime.envelope)
    if kind == b"BODYSTRUCTURE":
        return b"BODYSTRUCTURE " + _cached(message, "bodystructure", mime.bodystructure)
    return b"BODY " + _cached(message, "body", _body)


def _body(part: mime.Part) -> bytes:
    return mime.bodystructure(part, extended=False)


def _literal_data(message: Message, item: Item) -> bytes:
    if item.kind == b"SECTION":
        return section_data(message, item)
    if item.kind == b"RFC822":
        return message.raw
    root = mime.structure(message)
    return root.header if item.kind == b"RFC822.HEADER" else root.body


def _cached(message: Message, key: str, build: Callable[[mime.Part], bytes]) -> bytes:
    value = message.cache.get(key)
    if value is None:
        value = build(mime.structure(message))
        message.cache[key] = value
    return value
