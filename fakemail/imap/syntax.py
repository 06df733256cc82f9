"""IMAP wire syntax: a parser for client commands and encoders for responses.

The parser works on one complete command as received, literals included
(``{n}\\r\\n`` or ``{n+}\\r\\n`` followed by ``n`` bytes), so it never waits
for the network. Every syntax error raises ``ParseError``, which the session
answers with BAD.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

# Characters that end an atom (RFC 3501 atom-specials) besides controls.
_ATOM_SPECIALS = frozenset(b'(){ %*"\\]')
_LIST_WILDCARDS = frozenset(b"%*")
_LITERAL = re.compile(rb"\{(\d{1,10})(\+?)\}\r\n")
_SAFE_QUOTED = re.compile(rb"[\x20-\x7e]*")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_DATE_TIME = re.compile(
    r"^([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$"
)
_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")

SequenceSet = list[tuple[int | None, int | None]]


class ParseError(ValueError):
    """A command that does not follow the IMAP grammar."""


class Parser:
    """A cursor over one command; each method consumes one grammar element."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def expect(self, token: bytes) -> None:
        if not self.data.startswith(token, self.pos):
            raise ParseError(f"expected {token.decode()!r} at position {self.pos}")
        self.pos += len(token)

    def skip(self, token: bytes) -> bool:
        """Consume ``token`` if it comes next; return whether it did."""
        if self.data.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def space(self) -> None:
        self.expect(b" ")

    def end(self) -> None:
        if not self.at_end():
            raise ParseError(f"unexpected text at position {self.pos}")

    def _run(self, extra: frozenset[int] = frozenset()) -> bytes:
        start = self.pos
        data = self.data
        while self.pos < len(data):
            byte = data[self.pos]
            if (
                byte <= 0x20
                or byte >= 0x7F
                or (byte in _ATOM_SPECIALS and byte not in extra)
            ):
                break
            self.pos += 1
        return data[start : self.pos]

    def atom(self) -> bytes:
        value = self._run()
        if not value:
            raise ParseError(f"expected an atom at position {self.pos}")
        return value

    def tag(self) -> bytes:
        value = self._run()
        if not value or b"+" in value:
            raise ParseError("missing or invalid tag")
        return value

    def number(self) -> int:
        start = self.pos
        while self.pos < len(self.data) and 0x30 <= self.data[self.pos] <= 0x39:
            self.pos += 1
        if start == self.pos or self.pos - start > 10:
            raise ParseError(f"expected a number at position {start}")
        return int(self.data[start : self.pos])

    def quoted(self) -> bytes:
        self.expect(b'"')
        out = bytearray()
        data = self.data
        while True:
            if self.pos >= len(data):
                raise ParseError("unterminated quoted string")
            byte = data[self.pos]
            self.pos += 1
            if byte == 0x22:
                return bytes(out)
            if byte == 0x5C:
                if self.pos >= len(data) or data[self.pos] not in b'"\\':
                    raise ParseError("invalid escape in quoted string")
                byte = data[self.pos]
                self.pos += 1
            elif byte in (0x0D, 0x0A) or byte == 0:
                raise ParseError("line break inside quoted string")
            out.append(byte)

    def literal(self) -> bytes:
        match = _LITERAL.match(self.data, self.pos)
        if not match:
            raise ParseError(f"invalid literal at position {self.pos}")
        size = int(match.group(1))
        start = match.end()
        if start + size > len(self.data):
            raise ParseError("literal is shorter than announced")
        self.pos = start + size
        return self.data[start : self.pos]

    def string(self) -> bytes:
        byte = self.peek()
        if byte == 0x22:
            return self.quoted()
        if byte == 0x7B:
            return self.literal()
        raise ParseError(f"expected a string at position {self.pos}")

    def astring(self) -> bytes:
        if self.peek() in (0x22, 0x7B):
            return self.string()
        value = self._run(frozenset(b"]"))
        if not value:
            raise ParseError(f"expected an astring at position {self.pos}")
        return value

    def list_mailbox(self) -> bytes:
        """Read a LIST pattern: an astring that may also contain ``%`` and ``*``."""
        if self.peek() in (0x22, 0x7B):
            return self.string()
        value = self._run(frozenset(b"]") | _LIST_WILDCARDS)
        if not value:
            raise ParseError(f"expected a mailbox pattern at position {self.pos}")
        return value

    def flag_list(self) -> list[str]:
        """Read a parenthesised list of flags, or one bare flag as STORE allows."""
        if not self.skip(b"("):
            return [self.flag()]
        flags: list[str] = []
        while not self.skip(b")"):
            if flags:
                self.space()
            flags.append(self.flag())
        return flags

    def flag(self) -> str:
        if self.skip(b"\\"):
            if self.skip(b"*"):
                raise ParseError("\\* is not a flag that can be set")
            return "\\" + self.atom().decode("ascii")
        return self.atom().decode("ascii")

    def sequence_set(self) -> SequenceSet:
        ranges: SequenceSet = []
        while True:
            first = self._sequence_number()
            last = first
            if self.skip(b":"):
                last = self._sequence_number()
            ranges.append((first, last))
            if not self.skip(b","):
                return ranges

    def _sequence_number(self) -> int | None:
        if self.skip(b"*"):
            return None
        value = self.number()
        if value == 0:
            raise ParseError("0 is not a valid sequence number or UID")
        return value

    def date_time(self) -> datetime:
        raw = self.quoted().decode("ascii", "replace")
        return parse_date_time(raw)

    def date(self) -> datetime:
        raw = self.quoted() if self.peek() == 0x22 else self.atom()
        return parse_date(raw.decode("ascii", "replace"))


def parse_date_time(raw: str) -> datetime:
    """Parse an IMAP date-time such as ``"17-Jul-1996 02:44:25 -0700"``."""
    match = _DATE_TIME.match(raw)
    if not match or match.group(2).title() not in _MONTHS:
        raise ParseError(f"invalid date-time {raw!r}")
    day, month, year, hour, minute, second, sign, zh, zm = match.groups()
    offset = timedelta(hours=int(zh), minutes=int(zm))
    try:
        return datetime(
            int(year),
            _MONTHS.index(month.title()) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(-offset if sign == "-" else offset),
        )
    except ValueError as error:
        raise ParseError(f"invalid date-time {raw!r}") from error


def parse_date(raw: str) -> datetime:
    """Parse an IMAP date such as ``1-Feb-1994`` (no time)."""
    match = _DATE.match(raw)
    if not match or match.group(2).title() not in _MONTHS:
        raise ParseError(f"invalid date {raw!r}")
    try:
        return datetime(
            int(match.group(3)),
            _MONTHS.index(match.group(2).title()) + 1,
            int(match.group(1)),
        )
    except ValueError as error:
        raise ParseError(f"invalid date {raw!r}") from error


def format_date_time(value: datetime) -> bytes:
    """Format ``value`` as a quoted IMAP date-time for INTERNALDATE."""
    offset = value.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    text = (
        f'"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year:04d} '
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d} "
        f'{sign}{minutes // 60:02d}{minutes % 60:02d}"'
    )
    return text.encode("ascii")


def resolve(ranges: SequenceSet, values: list[int]) -> list[int]:
    """Return indexes into sorted ``values`` that ``ranges`` selects.

    ``values`` are UIDs, or ``1..n`` for sequence numbers; ``*`` stands for
    the largest value, and ``a:b`` selects the same as ``b:a``.
    """
    if not values:
        return []
    largest = values[-1]
    spans: list[tuple[int, int]] = []
    for first, last in ranges:
        low = largest if first is None else first
        high = largest if last is None else last
        if low > high:
            low, high = high, low
        start = bisect.bisect_left(values, low)
        stop = bisect.bisect_right(values, high)
        if start < stop:
            spans.append((start, stop))
    if len(spans) == 1:
        return list(range(*spans[0]))
    selected: set[int] = set()
    for start, stop in spans:
        selected.update(range(start, stop))
    return sorted(selected)


def quote(value: bytes | str | None) -> bytes:
    """Encode ``value`` as NIL, a quoted string, or a literal when it must be."""
    if value is None:
        return b"NIL"
    if isinstance(value, str):
        value = value.encode("utf-8")
    if len(value) < 1024 and _SAFE_QUOTED.fullmatch(value):
        return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return b"{%d}\r\n%s" % (len(value), value)


def astring(value: bytes) -> bytes:
    """Encode ``value`` as an atom when it can be one, else as a string."""
    if value and all(b > 0x20 and b < 0x7F and b not in _ATOM_SPECIALS for b in value):
        return value
    return quote(value)


def paren(items: Iterable[bytes]) -> bytes:
    return b"(" + b" ".join(items) + b")"


_LITERAL_AT_LINE_END = re.compile(rb"\{(\d{1,10})\}$")


def summarize_literals(data: bytes) -> list[bytes]:
    """Split sent data into lines, replacing literal contents by their size."""
    lines: list[bytes] = []
    current = b""
    position = 0
    while position < len(data):
        end = data.find(b"\r\n", position)
        if end == -1:
            end = len(data)
        current += data[position:end]
        position = end + 2
        match = _LITERAL_AT_LINE_END.search(current)
        if match:
            size = int(match.group(1))
            current += b" <%d bytes>" % size
            position += size
            continue
        lines.append(current)
        current = b""
    if current:
        lines.append(current)
    return lines
