"""Header block splitting and field decoding: RFC 2047 words, addresses, ids, dates."""

from __future__ import annotations

import binascii
import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from sagicc_tui.mail.charsets import decode_bytes, decode_raw_header
from sagicc_tui.mail.record import Address, RecordFlag

# Field names are printable ASCII without colon or space (RFC 5322 ftext).
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
# A bracketed id (inner whitespace is folding damage and is removed) or a
# bare token. Some mailers write ids without brackets, so a bare token with
# "@" counts too. The "@" is checked after the match, because matching it in
# the pattern would rescan a long token from every position.
_MESSAGE_ID_TOKEN = re.compile(r"<([^<>]*)>|([^\s<>,;()]+)")
# Characters that make an address list need the full tokenizer.
_SPECIAL_IN_LISTS = ('"', "(", ":", ";", "\\")
_COMMENT = re.compile(r"\([^()]*\)")

# Header blocks of real mail stay far below this (hundreds of Received and
# signature lines are tens of KiB). Past it the rest is taken as body.
_MAX_HEADER_BYTES = 1 << 20

# Dates before this year come from broken clocks (epoch zero, year 0001).
_EARLIEST_PLAUSIBLE_YEAR = 1980


@dataclass(slots=True)
class HeaderBlock:
    """Unfolded header fields by lower-case name, in order of appearance.

    Values are ASCII text in which raw 8-bit bytes are kept as surrogate
    escapes, so no byte is lost before the field is decoded.
    """

    fields: dict[str, list[str]] = field(default_factory=dict)
    body_offset: int = 0
    malformed: bool = False

    def first(self, name: str) -> str | None:
        """Return the first value of a field, or None when absent."""
        values = self.fields.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        """Return every value of a field (empty when absent)."""
        return self.fields.get(name, [])


def _header_end(raw: bytes) -> tuple[int, int]:
    """Return (end of header bytes, start of body) at the first empty line."""
    if raw.startswith(b"\n"):
        return 0, 1
    if raw.startswith(b"\r\n"):
        return 0, 2

    # Searches stop at the limit, so a message without an empty line costs
    # no more than a header block of that size.
    limit = min(len(raw), _MAX_HEADER_BYTES)
    lf = raw.find(b"\n\n", 0, limit)
    crlf_end = limit if lf < 0 else lf + 2
    crlf = raw.find(b"\n\r\n", 0, crlf_end)
    if crlf >= 0:
        return crlf + 1, crlf + 3
    if lf >= 0:
        return lf + 1, lf + 2
    return limit, limit


def _is_envelope_line(line: str) -> bool:
    """Return True for an mbox ``From sender date`` line (not ``From : x``)."""
    for prefix in ("From ", ">From "):
        if line.startswith(prefix):
            return not line[len(prefix) :].lstrip().startswith(":")
    return False


def split_headers(raw: bytes) -> HeaderBlock:
    """Split the header block of ``raw`` into unfolded fields.

    A leading mbox ``From `` line is skipped. A line that is neither a field
    nor a continuation is skipped and marks the block as malformed, because
    later fields are usually still valid. So does a header block without an
    ending empty line that is longer than 1 MiB.
    """
    head_end, body_start = _header_end(raw)
    block = HeaderBlock(body_offset=body_start)
    if head_end == body_start and head_end < len(raw):
        block.malformed = True
    text = raw[:head_end].decode("ascii", "surrogateescape")

    # Unfolding removes only the line breaks; the folding whitespace stays.
    # A continuation line with nothing to continue is kept as its own line.
    text = _FOLDING.sub("", text)
    for number, line in enumerate(text.split("\n")):
        line = line.removesuffix("\r")
        if not line:
            continue
        if number == 0 and _is_envelope_line(line):
            continue

        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not _FIELD_NAME.fullmatch(name):
            block.malformed = True
            continue
        block.fields.setdefault(name.lower(), []).append(value.strip())
    return block


def _has_raw_8bit(value: str) -> bool:
    return not value.isascii()


def _decode_word(encoding: str, text: str) -> bytes | None:
    data = text.encode("utf-8", "surrogateescape")
    try:
        if encoding in "qQ":
            return binascii.a2b_qp(data, header=True)
        # Strict, so a word of invalid characters stays visible as written
        # instead of decoding to nothing; missing padding is common and fixed.
        data = data.strip().rstrip(b"=")
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4), strict_mode=True)
    except binascii.Error:
        return None


def decode_header_text(value: str, channel: str, flags: set[RecordFlag]) -> str:
    """Decode a header value: raw 8-bit bytes in the channel encoding, then RFC 2047.

    Adjacent encoded words in the same charset are joined as bytes before
    decoding, so a multibyte character split across two words survives.
    Whitespace between two encoded words is dropped as RFC 2047 requires.
    An encoded word that cannot be decoded is kept as written.
    """
    if _has_raw_8bit(value):
        value = decode_raw_header(
            value.encode("utf-8", "surrogateescape"), channel, flags
        )
    if "=?" not in value:
        return value

    # Plain text as str, encoded words as (charset, bytes).
    pieces: list[str | tuple[str, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        position = match.end()
        follows_word = bool(pieces) and isinstance(pieces[-1], tuple)
        if gap and not (gap.isspace() and follows_word):
            pieces.append(gap)

        charset = match.group(1).lower()
        data = _decode_word(match.group(2), match.group(3))
        previous = pieces[-1] if pieces else None
        if data is None:
            flags.add(RecordFlag.MALFORMED_HEADER)
            pieces.append(match.group(0))
        elif isinstance(previous, tuple) and previous[0] == charset:
            pieces[-1] = (charset, previous[1] + data)
        else:
            pieces.append((charset, data))
    pieces.append(value[position:])

    parts = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
        else:
            parts.append(decode_bytes(piece[1], piece[0], channel, flags))
    return "".join(parts)


def _split_address_list(value: str) -> list[str]:
    """Split at top-level commas and semicolons; drop group names before a colon."""
    if not any(char in value for char in _SPECIAL_IN_LISTS):
        return [item.strip() for item in value.split(",") if item.strip()]

    items: list[str] = []
    current: list[str] = []
    in_quote = in_angle = escaped = False
    comment_depth = 0
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and (in_quote or comment_depth):
            escaped = True
        elif in_quote:
            in_quote = char != '"'
        elif comment_depth:
            comment_depth += {"(": 1, ")": -1}.get(char, 0)
        elif char == '"':
            in_quote = True
        elif char == "(":
            comment_depth = 1
        elif char == "<":
            in_angle = True
        elif char == ">":
            in_angle = False
        elif not in_angle and char in ",;":
            items.append("".join(current))
            current = []
            continue
        elif not in_angle and char == ":":
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _read_delimited(text: str, start: int, close: str) -> tuple[str, int]:
    """Read from after an opening quote, comment or angle to its close."""
    out: list[str] = []
    depth = 1
    index = start
    while index < len(text):
        char = text[index]
        index += 1
        if char == "\\" and close != ">" and index < len(text):
            out.append(text[index])
            index += 1
            continue
        if close == ")" and char == "(":
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0:
                break
        out.append(char)
    return "".join(out), index


def _parse_mailbox(item: str) -> tuple[str, str]:
    """Return (display name, address) for one mailbox, tolerating bad syntax."""
    if '"' not in item and "(" not in item and item.count("<") == 1:
        # The common "Name <addr>" form needs no character loop.
        name, _, rest = item.partition("<")
        addr, _, after = rest.partition(">")
        if ":" not in addr:
            return " ".join(f"{name} {after}".split()), "".join(addr.split())

    name_parts: list[str] = []
    comments: list[str] = []
    angle: str | None = None
    index = 0
    while index < len(item):
        char = item[index]
        if char == '"':
            text, index = _read_delimited(item, index + 1, '"')
            name_parts.append(text)
        elif char == "(":
            text, index = _read_delimited(item, index + 1, ")")
            comments.append(text.strip())
        elif char == "<":
            angle, index = _read_delimited(item, index + 1, ">")
        else:
            end = index
            while end < len(item) and item[end] not in '"(<':
                end += 1
            name_parts.append(item[index:end])
            index = end

    text = " ".join("".join(name_parts).split())
    if angle is not None:
        # A source route (<@relay:user@host>) is obsolete syntax; keep the mailbox.
        addr = "".join(angle.split()).rpartition(":")[2]
        return text or " ".join(comments), addr

    tokens = text.split()
    with_at = [token for token in tokens if "@" in token]
    if with_at:
        addr = with_at[-1]
        name = " ".join(token for token in tokens if token is not addr)
        return name or " ".join(comments), addr
    if len(tokens) == 1:
        return " ".join(comments), tokens[0]
    return text, ""


def parse_addresses(
    value: str | None, channel: str, flags: set[RecordFlag]
) -> list[Address]:
    """Parse an address list field; names are decoded, group syntax is flattened."""
    if not value:
        return []
    if _has_raw_8bit(value):
        value = decode_raw_header(
            value.encode("utf-8", "surrogateescape"), channel, flags
        )

    addresses = []
    for item in _split_address_list(value):
        name, addr = _parse_mailbox(item)
        if "=?" in name:
            name = decode_header_text(name, channel, flags)
        if name or addr:
            addresses.append(Address(name=name.strip(), addr=addr))
    return addresses


def parse_message_ids(
    value: str | None, channel: str, flags: set[RecordFlag]
) -> list[str]:
    """Return Message-IDs without angle brackets, in order, without repeats.

    Bracketed ids and bare tokens containing ``@`` are kept in field order;
    comments are skipped. Encoded words are decoded first because some
    mailers encode the whole field.
    """
    if not value:
        return []
    if _has_raw_8bit(value) or "=?" in value:
        value = decode_header_text(value, channel, flags)

    value = _COMMENT.sub(" ", value)
    ids = []
    for match in _MESSAGE_ID_TOKEN.finditer(value):
        bracketed, bare = match.groups()
        if bracketed is None and "@" not in bare.strip("@"):
            continue
        found = (
            "".join(bracketed.split()) if bracketed is not None else bare.strip("\"'")
        )
        if found:
            ids.append(found)
    return list(dict.fromkeys(ids))


def parse_message_id(
    value: str | None, channel: str, flags: set[RecordFlag]
) -> str | None:
    """Return the Message-ID of a Message-ID field, or None when there is none."""
    ids = parse_message_ids(value, channel, flags)
    if ids:
        return ids[0]
    if value:
        # An id without brackets and without "@" is still the sender's id.
        stripped = value.strip().strip("<>").strip()
        if stripped and not any(char.isspace() for char in stripped):
            return stripped
    return None


def parse_date(value: str | None) -> datetime | None:
    """Parse an RFC 5322 date to aware UTC; None when missing or implausible.

    A date without a zone, or with ``-0000``, is read as UTC.
    """
    if not value or not value.isascii():
        return None
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    try:
        offset = timezone(timedelta(seconds=parsed[9] or 0))
        moment = datetime(
            year, month, day, hour, minute, min(second, 59), tzinfo=offset
        )
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError, TypeError):
        return None
    if moment.year < _EARLIEST_PLAUSIBLE_YEAR:
        return None
    return moment
