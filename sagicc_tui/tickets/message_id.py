"""Our signed Message-IDs: ``sagicc.<ticket>.<unique>.<hmac>@<domain>``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_UNIQUE_PATTERN = re.compile(r"[A-Za-z0-9-]{1,64}")
_DOMAIN_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_SIGNED_ID = re.compile(
    r"sagicc\.(?P<ticket>[1-9][0-9]{0,17})\.(?P<unique>[A-Za-z0-9-]{1,64})"
    r"\.(?P<mac>[a-z2-7]{26})@(?P<domain>[^@\s<>]+)",
    re.IGNORECASE,
)
# HMAC-SHA256 truncated to 128 bits: too long to guess, short enough for an id.
_MAC_BYTES = 16
_MIN_KEY_BYTES = 16


def _check_key(key: bytes) -> None:
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(
            f"Message-ID key too short: {len(key)} bytes, need at least "
            f"{_MIN_KEY_BYTES} (generate one with secrets.token_bytes(32))"
        )


def _mac(key: bytes, ticket_number: int, unique: str, domain: str) -> str:
    signed = f"{ticket_number}.{unique}@{domain.lower()}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def make_message_id(
    domain: str, ticket_number: int, key: bytes, *, unique: str | None = None
) -> str:
    """Create a Message-ID (without angle brackets) that proves it is ours.

    The keyed hash covers the ticket number, ``unique`` and the domain, so
    nobody without ``key`` can make an id that ``verify_message_id`` accepts.
    ``unique`` defaults to 16 random hex digits.
    """
    _check_key(key)
    if not _DOMAIN_PATTERN.fullmatch(domain):
        raise ValueError(f"invalid Message-ID domain {domain!r}: use a host name")
    if ticket_number < 1:
        raise ValueError(f"invalid ticket number {ticket_number}: numbers start at 1")

    unique = secrets.token_hex(8) if unique is None else unique
    if not _UNIQUE_PATTERN.fullmatch(unique):
        raise ValueError(
            f"invalid Message-ID unique part {unique!r}: use 1-64 ASCII letters, "
            "digits or '-'"
        )

    mac = _mac(key, ticket_number, unique, domain)
    return f"sagicc.{ticket_number}.{unique}.{mac}@{domain}"


def verify_message_id(message_id: str, key: bytes) -> int | None:
    """Return the ticket number of one of our Message-IDs, or None.

    Angle brackets around the id are accepted. An id whose hash does not
    match (forged, or made with another key) returns None.
    """
    _check_key(key)
    match = _SIGNED_ID.fullmatch(message_id.strip().strip("<>"))
    if match is None:
        return None

    ticket_number = int(match["ticket"])
    expected = _mac(key, ticket_number, match["unique"], match["domain"])
    if not hmac.compare_digest(expected, match["mac"].lower()):
        return None
    return ticket_number
