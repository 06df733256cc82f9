"""SEARCH keys of RFC 3501, compiled into predicates over the selected mailbox."""

from __future__ import annotations

import base64
import binascii
import email.utils
import quopri
from collections.abc import Callable
from datetime import date
from email.header import decode_header, make_header
from typing import TYPE_CHECKING

from fakemail.imap import mime
from fakemail.imap.session import CommandError
from fakemail.imap.syntax import ParseError, Parser, SequenceSet, resolve
from fakemail.mailstore import Message, normalize_flag

if TYPE_CHECKING:
    from fakemail.imap.session import Session

# A predicate gets the session, the message's index in the view and the message.
Predicate = Callable[["Session", int, Message], bool]

_FLAG_KEYS = {
    b"ANSWERED": ("\\Answered", True),
    b"DELETED": ("\\Deleted", True),
    b"DRAFT": ("\\Draft", True),
    b"FLAGGED": ("\\Flagged", True),
    b"SEEN": ("\\Seen", True),
    b"UNANSWERED": ("\\Answered", False),
    b"UNDELETED": ("\\Deleted", False),
    b"UNDRAFT": ("\\Draft", False),
    b"UNFLAGGED": ("\\Flagged", False),
    b"UNSEEN": ("\\Seen", False),
}
_HEADER_KEYS = {
    b"BCC": b"bcc",
    b"CC": b"cc",
    b"FROM": b"from",
    b"SUBJECT": b"subject",
    b"TO": b"to",
}
_CHARSETS = {"UTF-8", "US-ASCII"}
# Nesting of NOT, OR and parentheses allowed in one SEARCH. Deeper criteria
# get BAD, because parsing and matching recurse once per level and Python's
# default recursion limit is 1,000 frames.
MAX_SEARCH_DEPTH = 100


def parse_search(parser: Parser) -> Predicate:
    """Parse ``[CHARSET name] key...`` and return one predicate (all keys ANDed)."""
    if parser.data[parser.pos : parser.pos + 8].upper() == b"CHARSET ":
        parser.pos += 8
        charset = parser.astring().decode("ascii", "replace").upper()
        if charset not in _CHARSETS:
            raise CommandError(
                "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset."
            )
        parser.space()
    keys = [_key(parser, 0)]
    while parser.skip(b" "):
        keys.append(_key(parser, 0))
    return _all(keys)


def run_search(session: Session, predicate: Predicate) -> list[int]:
    """Return the view indexes of the messages that match ``predicate``."""
    return [
        i for i, message in enumerate(session.view) if predicate(session, i, message)
    ]


def _all(keys: list[Predicate]) -> Predicate:
    if len(keys) == 1:
        return keys[0]
    return lambda s, i, m: all(key(s, i, m) for key in keys)


def _key(parser: Parser, depth: int) -> Predicate:
    if depth > MAX_SEARCH_DEPTH:
        raise ParseError(
            f"search criteria nested deeper than {MAX_SEARCH_DEPTH} levels"
        )
    if parser.skip(b"("):
        keys = [_key(parser, depth + 1)]
        while parser.skip(b" "):
            keys.append(_key(parser, depth + 1))
        parser.expect(b")")
        return _all(keys)
    byte = parser.peek()
    if byte is not None and (0x30 <= byte <= 0x39 or byte == 0x2A):
        ranges = parser.sequence_set()
        return _in_set(lambda s: _seq_indexes(s, ranges))
    name = parser.atom().upper()
    if name in _FLAG_KEYS:
        flag, present = _FLAG_KEYS[name]
        return lambda s, i, m: (flag in m.flags) == present
    simple = _simple_key(name)
    if simple is not None:
        return simple
    parser.space()
    return _key_with_argument(name, parser, depth)


def _simple_key(name: bytes) -> Predicate | None:
    if name == b"ALL":
        return lambda s, i, m: True
    if name == b"NEW":
        return lambda s, i, m: m.uid in s.recent and "\\Seen" not in m.flags
    if name == b"OLD":
        return lambda s, i, m: m.uid not in s.recent
    if name == b"RECENT":
        return lambda s, i, m: m.uid in s.recent
    return None


def _key_with_argument(name: bytes, parser: Parser, depth: int) -> Predicate:
    if name in _HEADER_KEYS or name in (b"HEADER", b"BODY", b"TEXT"):
        return _text_key(name, parser)
    if name == b"NOT":
        inner = _key(parser, depth + 1)
        return lambda s, i, m: not inner(s, i, m)
    if name == b"OR":
        left = _key(parser, depth + 1)
        parser.space()
        right = _key(parser, depth + 1)
        return lambda s, i, m: left(s, i, m) or right(s, i, m)
    if name == b"UID":
        ranges = parser.sequence_set()
        return _in_set(lambda s: _uid_indexes(s, ranges))
    if name in (b"KEYWORD", b"UNKEYWORD"):
        flag = normalize_flag(parser.atom().decode("utf-8", "replace"))
        present = name == b"KEYWORD"
        return lambda s, i, m: (flag in m.flags) == present
    if name in (b"LARGER", b"SMALLER"):
        size = parser.number()
        if name == b"LARGER":
            return lambda s, i, m: len(m.raw) > size
        return lambda s, i, m: len(m.raw) < size
    if name in (b"BEFORE", b"ON", b"SINCE"):
        day = parser.date().date()
        return _date_key(name, day, lambda m: m.internaldate.date())
    if name in (b"SENTBEFORE", b"SENTON", b"SENTSINCE"):
        day = parser.date().date()
        return _date_key(name[4:], day, _sent_date)
    raise ParseError(f"unknown SEARCH key {name.decode('ascii', 'replace')}")


def _text_key(name: bytes, parser: Parser) -> Predicate:
    """Compile a key that matches a substring of headers or body, ignoring case."""
    if name in _HEADER_KEYS:
        needle = _needle(parser)
        field = _HEADER_KEYS[name]
        return lambda s, i, m: _header_contains(m, field, needle)
    if name == b"HEADER":
        field = parser.astring().lower()
        parser.space()
        needle = _needle(parser)
        return lambda s, i, m: _header_contains(m, field, needle)
    if name == b"BODY":
        needle = _needle(parser)
        return lambda s, i, m: needle in _body_text(m)
    if name == b"TEXT":
        needle = _needle(parser)
        return lambda s, i, m: needle in _body_text(m) or needle in _all_headers(m)
    raise ParseError(f"unknown SEARCH text key {name.decode('ascii', 'replace')}")


def _needle(parser: Parser) -> str:
    return parser.astring().decode("utf-8", "replace").casefold()


def _date_key(
    kind: bytes, day: date, value: Callable[[Message], date | None]
) -> Predicate:
    def matches(s: Session, i: int, m: Message) -> bool:
        found = value(m)
        if found is None:
            return False
        if kind == b"BEFORE":
            return found < day
        if kind == b"ON":
            return found == day
        return found >= day

    return matches


# Dovecot 2.3 dates a message without a valid Date header at the Unix epoch.
_NO_DATE = date(1970, 1, 1)


def _sent_date(message: Message) -> date | None:
    raw = mime.structure(message).get(b"date")
    if raw is None:
        return _NO_DATE
    try:
        return email.utils.parsedate_to_datetime(raw.decode("ascii", "replace")).date()
    except (TypeError, ValueError):
        return _NO_DATE


def _in_set(build: Callable[[Session], set[int]]) -> Predicate:
    """Match view indexes in a set that is built once per SEARCH command."""
    cache: dict[str, set[int]] = {}

    def matches(s: Session, i: int, m: Message) -> bool:
        if "indexes" not in cache:
            cache["indexes"] = build(s)
        return i in cache["indexes"]

    return matches


def _seq_indexes(session: Session, ranges: SequenceSet) -> set[int]:
    return set(resolve(ranges, list(range(1, len(session.view) + 1))))


def _uid_indexes(session: Session, ranges: SequenceSet) -> set[int]:
    return set(resolve(ranges, session.view_uids))


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeDecodeError):
        return text


def _header_text(message: Message, field: bytes) -> str | None:
    """Return the decoded values of header ``field``, or None if it is absent."""
    cache = message.cache.setdefault("search_headers", {})
    if field not in cache:
        values = [v for n, v in mime.structure(message).fields if n.lower() == field]
        cache[field] = (
            "\n".join(_decode(v) for v in values).casefold() if values else None
        )
    return cache[field]


def _header_contains(message: Message, field: bytes, needle: str) -> bool:
    text = _header_text(message, field)
    return text is not None and needle in text


def _all_headers(message: Message) -> str:
    text = message.cache.get("search_all_headers")
    if text is None:
        text = "\n".join(
            n.decode("ascii", "replace") + ": " + _decode(v)
            for n, v in mime.structure(message).fields
        ).casefold()
        message.cache["search_all_headers"] = text
    return text


def _body_text(message: Message) -> str:
    text = message.cache.get("search_body")
    if text is None:
        text = "\n".join(_decoded_bodies(mime.structure(message))).casefold()
        message.cache["search_body"] = text
    return text


def _decoded_bodies(part: mime.Part) -> list[str]:
    """Return the text of every leaf part, transfer encoding undone."""
    if part.children:
        return [text for child in part.children for text in _decoded_bodies(child)]
    if part.message is not None:
        return _decoded_bodies(part.message)
    encoding = (part.get(b"content-transfer-encoding") or b"").strip().lower()
    data = part.body
    try:
        if encoding == b"base64":
            data = base64.b64decode(data)
        elif encoding == b"quoted-printable":
            data = quopri.decodestring(data)
    except (binascii.Error, ValueError):
        pass
    charset = dict(part.params).get("charset", "utf-8")
    try:
        return [data.decode(charset, "replace")]
    except LookupError:
        return [data.decode("utf-8", "replace")]
