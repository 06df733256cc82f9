"""Parsing of IMAP responses as aioimaplib 2.0.3 returns them (lines and literals)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

_FETCH_START = re.compile(rb"^(\d+) FETCH \(")
_EXISTS = re.compile(rb"^(\d+) EXISTS\b", re.IGNORECASE)
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]", re.IGNORECASE)
_LITERAL_END = re.compile(rb"\{(\d+)\+?\}$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1
    )
}


class Literal(bytes):
    """The bytes of an IMAP literal, distinct from atoms and quoted strings."""


@dataclass(slots=True)
class FetchedMessage:
    """One ``FETCH`` response item, with the attributes the engine requests.

    ``body`` is the message (``BODY[]``) or only its header
    (``BODY[HEADER]``, then ``header_only`` is true); None when not fetched.
    """

    sequence: int
    uid: int | None = None
    size: int | None = None
    internal_date: datetime | None = None
    flags: tuple[str, ...] = ()
    body: bytes | None = None
    header_only: bool = False
    attributes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MailboxStatus:
    """Folder state reported by SELECT or EXAMINE."""

    exists: int
    uidvalidity: int
    uidnext: int | None
    read_only: bool


def parse_select(lines: list[bytes | bytearray]) -> MailboxStatus:
    """Read EXISTS, UIDVALIDITY and UIDNEXT from a SELECT or EXAMINE response.

    A missing UIDVALIDITY raises ValueError, because syncing by UID is unsafe
    without it.
    """
    exists = 0
    uidvalidity: int | None = None
    uidnext: int | None = None
    read_only = False
    for line in lines:
        if isinstance(line, bytearray):
            continue
        if match := _EXISTS.match(line):
            exists = int(match.group(1))
        if match := _UIDVALIDITY.search(line):
            uidvalidity = int(match.group(1))
        if match := _UIDNEXT.search(line):
            uidnext = int(match.group(1))
        if b"[READ-ONLY]" in line.upper():
            read_only = True
    if uidvalidity is None:
        raise ValueError("the server sent no UIDVALIDITY for the folder")
    return MailboxStatus(exists, uidvalidity, uidnext, read_only)


def parse_search(lines: list[bytes | bytearray]) -> list[int]:
    """Return the numbers of the untagged SEARCH lines, in server order.

    aioimaplib strips the word ``SEARCH`` from untagged lines of an async
    command, and the last line is the tagged response's text.
    """
    found: list[int] = []
    for line in lines[:-1]:
        if isinstance(line, bytearray):
            continue
        found.extend(int(token) for token in line.split() if token.isdigit())
    return found


def parse_capabilities(text: str) -> frozenset[str]:
    """Upper-case capability names from a CAPABILITY line or response code."""
    words = text.replace("[", " ").replace("]", " ").split()
    return frozenset(word.upper() for word in words if word.upper() != "CAPABILITY")


def parse_fetch(lines: list[bytes | bytearray]) -> list[FetchedMessage]:
    """Parse every ``* N FETCH (...)`` item of a response, literals included.

    aioimaplib hands a literal over as a ``bytearray`` element after the line
    that announced it, so parentheses inside a literal never count. Lines that
    belong to no FETCH item (the tagged text, EXPUNGE) are skipped.
    """
    messages: list[FetchedMessage] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _FETCH_START.match(line) if isinstance(line, bytes) else None
        if match is None:
            index += 1
            continue

        tokens, index = _tokenize_item(lines, index)
        messages.append(_build_message(int(match.group(1)), tokens))
    return messages


def _tokenize_item(lines: list[bytes | bytearray], start: int) -> tuple[list, int]:
    """Tokenize one FETCH item that may span lines and literals."""
    stack: list[list] = [[]]
    index = start
    first = True
    while index < len(lines):
        segment = lines[index]
        index += 1
        if isinstance(segment, bytearray):
            stack[-1].append(Literal(segment))
            continue

        text = segment.split(b" ", 2)[2] if first else segment
        first = False
        _tokenize_text(text, stack)
        if len(stack) == 1:
            break
    while len(stack) > 1:
        # NOTE: an item cut off without its closing parenthesis keeps what
        # arrived; the caller sees the missing attributes.
        done = stack.pop()
        stack[-1].append(done)
    items = stack[0][0] if stack[0] and isinstance(stack[0][0], list) else stack[0]
    return items, index


def _tokenize_text(text: bytes, stack: list[list]) -> None:
    position = 0
    length = len(text)
    while position < length:
        char = text[position : position + 1]
        if char == b" ":
            position += 1
        elif char == b"(":
            stack.append([])
            position += 1
        elif char == b")":
            done = stack.pop()
            stack[-1].append(done)
            position += 1
        elif char == b'"':
            value, position = _read_quoted(text, position)
            stack[-1].append(value)
        elif _LITERAL_END.match(text, position):
            # The literal itself is the next element of the response.
            return
        else:
            atom, position = _read_atom(text, position)
            stack[-1].append(atom)


def _read_quoted(text: bytes, position: int) -> tuple[str, int]:
    out = bytearray()
    position += 1
    while position < len(text):
        byte = text[position]
        if byte == 0x5C and position + 1 < len(text):
            out.append(text[position + 1])
            position += 2
        elif byte == 0x22:
            return out.decode("utf-8", "replace"), position + 1
        else:
            out.append(byte)
            position += 1
    return out.decode("utf-8", "replace"), position


def _read_atom(text: bytes, position: int) -> tuple[str, int]:
    start = position
    depth = 0
    while position < len(text):
        byte = text[position : position + 1]
        if byte == b"[":
            depth += 1
        elif byte == b"]":
            depth -= 1
        elif depth == 0 and byte in (b" ", b"(", b")"):
            break
        position += 1
    return text[start:position].decode("ascii", "replace"), position


def _build_message(sequence: int, tokens: list) -> FetchedMessage:
    message = FetchedMessage(sequence=sequence)
    for key_index in range(0, len(tokens) - 1, 2):
        key = tokens[key_index]
        value = tokens[key_index + 1]
        if not isinstance(key, str):
            continue
        name = key.upper()
        message.attributes[name] = value
        _apply_attribute(message, name, value)
    return message


def _apply_attribute(message: FetchedMessage, name: str, value: object) -> None:
    if name == "UID" and isinstance(value, str) and value.isdigit():
        message.uid = int(value)
    elif name == "RFC822.SIZE" and isinstance(value, str) and value.isdigit():
        message.size = int(value)
    elif name == "INTERNALDATE" and isinstance(value, str):
        message.internal_date = parse_internal_date(value)
    elif name == "FLAGS" and isinstance(value, list):
        message.flags = tuple(str(flag) for flag in value)
    elif name.startswith("BODY[") or name in {"RFC822", "RFC822.HEADER"}:
        body = _as_bytes(value)
        if body is None:
            return
        section = name.split("]", 1)[0]
        message.body = body
        message.header_only = section in {"BODY[HEADER", "RFC822.HEADER"}


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, Literal):
        return bytes(value)
    if isinstance(value, str) and value.upper() != "NIL":
        return value.encode("utf-8")
    return None


def parse_internal_date(text: str) -> datetime | None:
    """Parse ``DD-Mon-YYYY HH:MM:SS +ZZZZ``; None when malformed."""
    try:
        day, month, rest = text.strip().split("-", 2)
        year, clock, zone = rest.split(" ")
        hours, minutes, seconds = (int(part) for part in clock.split(":"))
        sign = -1 if zone.startswith("-") else 1
        offset = sign * (int(zone[1:3]) * 60 + int(zone[3:5]))
        return datetime(
            int(year),
            _MONTHS[month.upper()],
            int(day),
            hours,
            minutes,
            seconds,
            tzinfo=timezone(timedelta(minutes=offset)),
        )
    except (ValueError, KeyError, IndexError):
        return None
