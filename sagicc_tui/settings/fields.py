"""Parsers that turn raw setting values (form text, TOML, flags) into typed ones."""

from __future__ import annotations

import codecs
import datetime as dt
import ipaddress
import re
import unicodedata
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sagicc_tui.settings.models import MEBIBYTE, ImportExisting, ImportMode

E = TypeVar("E", bound=StrEnum)
Parser = Callable[[Any], Any]


class FieldProblem(ValueError):
    """A raw value a parser rejects: what is wrong with it and how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


# Characters that could end a header or an IMAP/SMTP command line, or move the
# cursor on an operator's terminal: C0/C1 controls (CR, LF, NUL, ESC, DEL...)
# and the Unicode line and paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp"}
_BODY_ALLOWED = {"\n", "\t"}

_TRUE_WORDS = {"true", "yes", "on", "1"}
_FALSE_WORDS = {"false", "no", "off", "0"}

_HOST_LABEL = re.compile(r"^(?!-)[\w-]{1,63}(?<!-)$")
_ADDRESS_FORBIDDEN = set(' <>(),;:"[]\\')
_DAYS = re.compile(r"^(?:last\s+)?(\d+)\s*(?:d|days?)$", re.IGNORECASE)
_DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_SIZE = re.compile(r"^(\d+)\s*([KMG]i?B?|B)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "M": MEBIBYTE, "G": 1024 * MEBIBYTE}
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_TAG_PREFIX = re.compile(r"^[\w.-]*$")
_ACTION = re.compile(r"^[a-z][a-z0-9_.]*$")


def short_repr(value: Any, limit: int = 100) -> str:
    """Return ``repr(value)``, cut after ``limit`` characters with the length added."""
    shown = repr(value)
    if len(shown) <= limit:
        return shown
    size = f"{len(value)} characters" if isinstance(value, str) else "long"
    return f"{shown[:limit]}... ({size})"


def find_forbidden_char(text: str, allowed: set[str] | None = None) -> str | None:
    """Return the first control or line-separator character in ``text``."""
    for char in text:
        if allowed and char in allowed:
            continue
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return char
    return None


def _require_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise FieldProblem(
            f"expected text, got {type(raw).__name__}", "write the value in quotes"
        )
    return raw


def _line(raw: Any, *, max_length: int, label: str) -> str:
    """Parse one line of text: no control characters and a length limit."""
    text = _require_text(raw)
    char = find_forbidden_char(text)
    if char is not None:
        raise FieldProblem(
            f"contains the control or line-separator character {char!r}",
            f"remove line breaks and control characters from the {label}",
        )
    if len(text) > max_length:
        raise FieldProblem(
            f"is {len(text)} characters long, longer than {max_length}",
            f"shorten the {label}",
        )
    return text


def _required_line(raw: Any, *, max_length: int, label: str, example: str) -> str:
    text = _line(raw, max_length=max_length, label=label).strip()
    if not text:
        raise FieldProblem(f"the {label} is missing", f"enter the {label}, {example}")
    return text


def parse_name(raw: Any) -> str:
    """Parse a channel name: one non-empty line without outer spaces."""
    text = _required_line(
        raw, max_length=64, label="channel name", example='e.g. "support"'
    )
    if text != raw:
        raise FieldProblem(
            "has leading or trailing spaces", "remove the spaces around the name"
        )
    return text


def parse_optional_name(raw: Any) -> str:
    """Parse a reference to another channel by name. Empty means none."""
    if raw is None or raw == "":
        return ""
    return parse_name(raw)


def parse_host(raw: Any) -> str:
    """Parse a host name, IPv4 address or IPv6 address (brackets optional)."""
    host = _required_line(
        raw, max_length=253, label="host", example="e.g. imap.example.com"
    )
    if "://" in host:
        raise FieldProblem(
            "contains a URL scheme",
            "enter only the server name, e.g. mail.example.com, without imap://",
        )
    if any(char.isspace() for char in host):
        raise FieldProblem("contains spaces", "remove the spaces from the host name")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return host.strip("[]")
    if re.fullmatch(r"[^:]+:\d+", host):
        raise FieldProblem(
            "contains a port", "remove the port here and put it in the port field"
        )
    labels = host.rstrip(".").split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise FieldProblem(
            "is not a valid host name",
            "use letters, digits, '-' and dots, e.g. mail.example.com",
        )
    return host


def parse_int(raw: Any, *, low: int, high: int, unit: str, fix: str) -> int:
    """Parse a whole number between ``low`` and ``high`` inclusive."""
    if isinstance(raw, bool):
        raise FieldProblem("is a true/false value, not a number", fix)
    if isinstance(raw, str):
        text = raw.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise FieldProblem("is not a whole number", fix)
        raw = int(text)
    if not isinstance(raw, int):
        raise FieldProblem("is not a whole number", fix)
    if not low <= raw <= high:
        raise FieldProblem(f"must be between {low} and {high} {unit}".rstrip(), fix)
    return raw


def parse_port(raw: Any) -> int:
    return parse_int(
        raw,
        low=1,
        high=65535,
        unit="",
        fix="enter a port from 1 to 65535, usually 993 or 143 for IMAP "
        "and 465, 587 or 25 for SMTP",
    )


def parse_bool(raw: Any) -> bool:
    """Parse true/false, also from the words yes/no, on/off and 1/0."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise FieldProblem("is not true or false", "use true or false")


def enum_parser(enum_cls: type[E]) -> Callable[[Any], E]:
    """Build a parser that accepts an enum's values and labels, any case."""

    def parse(raw: Any) -> E:
        if isinstance(raw, enum_cls):
            return raw
        if isinstance(raw, str):
            word = raw.strip().lower()
            for member in enum_cls:
                label = getattr(member, "label", member.value)
                if word in (member.value, label.lower()):
                    return member
        allowed = ", ".join(member.value for member in enum_cls)
        raise FieldProblem("is not one of the allowed values", f"use one of {allowed}")

    return parse


def parse_ca_file(raw: Any) -> str:
    """Parse the path of an existing PEM CA file. Empty means none."""
    if raw is None or raw == "":
        return ""
    text = _line(raw, max_length=4096, label="CA file path").strip()
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise FieldProblem(
            "is not an absolute path", "enter the full path, e.g. /etc/ssl/our-ca.pem"
        )
    if not path.is_file():
        raise FieldProblem(
            "is not an existing file",
            "enter the path of the PEM file with the CA certificate, or leave it empty",
        )
    return str(path)


def parse_username(raw: Any) -> str:
    return _required_line(
        raw, max_length=256, label="username", example="usually the email address"
    )


def parse_optional_username(raw: Any) -> str:
    """Parse an SMTP username. Empty means the server takes mail without AUTH."""
    if raw is None or raw == "":
        return ""
    return parse_username(raw)


def parse_folder(raw: Any) -> str:
    """Parse an IMAP folder name: any Unicode text on one line."""
    return _required_line(raw, max_length=255, label="folder", example='e.g. "INBOX"')


def parse_optional_folder(raw: Any) -> str:
    if raw is None or raw == "":
        return ""
    return parse_folder(raw)


def parse_encoding(raw: Any) -> str:
    """Parse a character encoding that Python's codecs know as a text encoding."""
    name = _required_line(
        raw, max_length=64, label="character encoding", example="e.g. utf-8"
    )
    fix = "use an encoding Python knows, e.g. utf-8, windows-1252 or iso-8859-15"
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise FieldProblem("is not an encoding Python's codecs know", fix) from None

    # base64, rot13 and friends are codecs too, but they do not decode text.
    if not getattr(info, "_is_text_encoding", True):
        raise FieldProblem("is a codec but not a text encoding", fix)
    return name.lower()


def _parse_bounded(low: int, high: int, unit: str, fix: str) -> Parser:
    def parse(raw: Any) -> int:
        return parse_int(raw, low=low, high=high, unit=unit, fix=fix)

    return parse


parse_reopen_window_days = _parse_bounded(
    0, 3650, "days", "enter a number of days from 0 to 3650, e.g. 14"
)
parse_poll_interval = _parse_bounded(
    1, 86400, "seconds", "enter a number of seconds from 1 to 86400, e.g. 60"
)


def parse_size(raw: Any) -> int:
    """Parse a size in bytes, also written "25MB" (MB meaning MiB here)."""
    fix = 'enter a size in bytes or with a unit, e.g. "25MB" (1 MB = 1,048,576 bytes)'
    if isinstance(raw, str):
        match = _SIZE.match(raw.strip())
        if match is None:
            raise FieldProblem("is not a size", fix)
        unit = (match.group(2) or "").upper()[:1]
        raw = int(match.group(1)) * _SIZE_UNITS[unit]
    return parse_int(raw, low=1024, high=4 * 1024 * MEBIBYTE, unit="bytes", fix=fix)


def parse_import_existing(raw: Any) -> ImportExisting:
    """Parse "all", "none", "14d" (the last 14 days) or a date "2026-01-31"."""
    fix = 'use "all", "none", a number of days such as "14d", or a date "2026-01-31"'
    if isinstance(raw, ImportExisting):
        return raw
    if isinstance(raw, dt.datetime):
        return ImportExisting.since_date(raw.date())
    if isinstance(raw, dt.date):
        return ImportExisting.since_date(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return ImportExisting.recent(
            parse_int(raw, low=1, high=36500, unit="days", fix=fix)
        )
    text = _require_text(raw).strip()
    if text.lower() in (ImportMode.ALL, ImportMode.NONE):
        return ImportExisting(ImportMode(text.lower()))
    days = _DAYS.match(text)
    if days:
        count = parse_int(days.group(1), low=1, high=36500, unit="days", fix=fix)
        return ImportExisting.recent(count)
    if _DATE_LIKE.match(text):
        try:
            return ImportExisting.since_date(dt.date.fromisoformat(_pad_date(text)))
        except ValueError:
            raise FieldProblem(
                "is not a valid date", "enter a real date as YYYY-MM-DD"
            ) from None
    raise FieldProblem("is not a recognised import choice", fix)


def _pad_date(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def parse_address(raw: Any) -> str:
    """Parse a bare address ``local@domain`` (no display name, no brackets)."""
    text = _required_line(
        raw, max_length=254, label="address", example="e.g. support@example.com"
    )
    fix = "enter a bare address such as support@example.com, without a name or <>"
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise FieldProblem("is not an email address", fix)
    if _ADDRESS_FORBIDDEN.intersection(text) or "@" in local:
        raise FieldProblem("contains characters not allowed in an address", fix)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise FieldProblem("has a misplaced dot before the @", fix)
    try:
        parse_host(domain)
    except FieldProblem:
        raise FieldProblem("has an invalid domain after the @", fix) from None
    return text


def parse_domain(raw: Any) -> str:
    """Parse a mail domain, dropping a leading "@" and folding case."""
    text = _require_text(raw).strip().lstrip("@").lower()
    try:
        return parse_host(text)
    except FieldProblem as problem:
        raise FieldProblem(
            f"{problem.problem} as a domain", "enter a domain such as example.com"
        ) from None


def _split_list(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        return [item for item in re.split(r"[,\s]+", raw) if item]
    if isinstance(raw, list | tuple):
        return list(raw)
    raise FieldProblem("is not a list", 'write a list such as ["a@example.com"]')


def _list_parser(item_parser: Parser, label: str) -> Callable[[Any], tuple[str, ...]]:
    def parse(raw: Any) -> tuple[str, ...]:
        items: list[str] = []
        for item in _split_list(raw):
            try:
                value = item_parser(item).lower()
            except FieldProblem as problem:
                raise FieldProblem(
                    f"entry {short_repr(item)} {problem.problem}", problem.fix
                ) from None
            if value not in items:
                items.append(value)
        return tuple(items)

    parse.__doc__ = f"Parse a list of {label}, comma-separated in text form."
    return parse


parse_blocked_senders = _list_parser(parse_address, "addresses")
parse_blocked_domains = _list_parser(parse_domain, "domains")


def parse_client_id(raw: Any) -> str:
    text = _line(raw, max_length=256, label="OAuth client id").strip()
    if any(char.isspace() for char in text):
        raise FieldProblem("contains spaces", "paste the client id without spaces")
    return text


def parse_tenant(raw: Any) -> str:
    text = _required_line(
        raw, max_length=256, label="tenant", example='e.g. "common" or a tenant id'
    )
    if not _TENANT.match(text):
        raise FieldProblem(
            "is not a tenant name",
            'use "common", "organizations", a domain or a tenant id',
        )
    return text


def parse_sender_name(raw: Any) -> str:
    return _line(raw, max_length=200, label="sender name").strip()


def parse_signature(raw: Any) -> str:
    """Parse a signature: body text, so line breaks are allowed (as LF)."""
    text = _require_text(raw).replace("\r\n", "\n")
    char = find_forbidden_char(text, _BODY_ALLOWED)
    if char is not None:
        raise FieldProblem(
            f"contains the control or line-separator character {char!r}",
            "remove control characters; only line breaks and tabs are allowed",
        )
    if len(text) > 10_000:
        raise FieldProblem(
            f"is {len(text)} characters long, longer than 10000",
            "shorten the signature",
        )
    return text


def parse_tag_prefix(raw: Any) -> str:
    """Parse the ticket tag prefix: letters, digits, "_", "-" and "." only."""
    text = _line(raw, max_length=20, label="ticket tag prefix")
    if not _TAG_PREFIX.match(text):
        raise FieldProblem(
            "may contain only letters, digits, '_', '-' and '.'",
            'use a short word such as "ACME", or leave it empty for [#N]',
        )
    return text


def parse_operator_name(raw: Any) -> str:
    return _line(raw, max_length=100, label="operator name").strip()


def parse_key_bindings(raw: Any) -> dict[str, str]:
    """Parse a table of console action name to key, e.g. ``reply = "r"``."""
    if not isinstance(raw, dict):
        raise FieldProblem("is not a table", 'write it as [key_bindings] reply = "r"')
    bindings: dict[str, str] = {}
    for action, key in raw.items():
        if not isinstance(action, str) or not _ACTION.match(action):
            raise FieldProblem(
                f"action {short_repr(action)} is not an action name",
                "use lower-case action names such as reply or close_ticket",
            )
        keys = _line(key, max_length=64, label="key").split(",")
        if not all(part.strip() and not part.strip().count(" ") for part in keys):
            raise FieldProblem(
                f"key {short_repr(key)} for {action} is not a key name",
                'use key names such as "r", "ctrl+r" or "j,down"',
            )
        bindings[action] = ",".join(part.strip() for part in keys)
    return bindings
