"""Fixture loading shared by the mail tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sagicc_tui.mail import MessageRecord, parse_message

FIXTURES = Path(__file__).parent / "fixtures"
ARRIVAL = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    """Return the bytes of a fixture file in ``fixtures/``."""
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str, **options: object) -> MessageRecord:
    """Parse a fixture with a fixed arrival time (headers and body)."""
    options.setdefault("arrival", ARRIVAL)
    return parse_message(fixture_bytes(name), **options)  # type: ignore[arg-type]


def message(headers: str, body: str = "Body.\n") -> bytes:
    """Build a small message from header lines (LF line endings)."""
    return (headers.strip("\n") + "\n\n" + body).encode("utf-8")
