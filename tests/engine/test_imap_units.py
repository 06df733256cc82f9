"""Unit tests of the IMAP helpers: modified UTF-7, response parsing, clock, backoff."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sagicc_tui.engine.backoff import Backoff
from sagicc_tui.engine.clock import ManualClock
from sagicc_tui.engine.imapparse import (
    parse_capabilities,
    parse_fetch,
    parse_internal_date,
    parse_search,
    parse_select,
)
from sagicc_tui.engine.utf7 import decode_mailbox, encode_mailbox

UTF7_CASES = [
    ("INBOX", "INBOX"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
    ("Entwürfe", "Entw&APw-rfe"),
    ("A&B", "A&-B"),
    ("&", "&-"),
    ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
    ("😀 smile", "&2D3eAA- smile"),
    ("a\tb", "a&AAk-b"),
]


@pytest.mark.parametrize(("name", "wire"), UTF7_CASES)
def test_utf7_round_trip(name: str, wire: str) -> None:
    assert encode_mailbox(name) == wire
    assert decode_mailbox(wire) == name


@pytest.mark.parametrize("wire", ["&U,BTFw", "&%%%-", "&Jj!-"])
def test_utf7_invalid_names(wire: str) -> None:
    with pytest.raises(ValueError) as caught:
        decode_mailbox(wire)

    assert repr(wire) in str(caught.value)


def test_fetch_with_literals_any_order() -> None:
    lines = [
        b"2 FETCH (BODY[] {10}",
        bytearray(b"Subj: (x\r\n"),
        b' UID 7 INTERNALDATE " 7-Jul-2026 10:00:01 +0200" RFC822.SIZE 10)',
        b"3 FETCH (FLAGS (\\Seen))",
        b"1 FETCH (UID 5 BODY[HEADER] {3}",
        bytearray(b"a)b"),
        b" RFC822.SIZE 99999)",
        b"4 FETCH (UID 8 BODY[] NIL)",
        b'5 FETCH (UID 9 BODY[] "quoted \\"body\\"")',
        b"Fetch completed",
    ]

    messages = parse_fetch(lines)

    assert [m.sequence for m in messages] == [2, 3, 1, 4, 5]
    first, flags_only, header, empty, quoted = messages
    assert first.uid == 7
    assert first.body == b"Subj: (x\r\n"
    assert first.size == 10
    assert first.internal_date == datetime(
        2026, 7, 7, 10, 0, 1, tzinfo=timezone(timedelta(hours=2))
    )
    assert flags_only.uid is None
    assert flags_only.flags == ("\\Seen",)
    assert header.header_only
    assert header.body == b"a)b"
    assert header.size == 99999
    assert empty.body is None
    assert quoted.body == b'quoted "body"'


def test_select_lines_any_order() -> None:
    lines = [
        b"OK [UIDNEXT 12] Predicted next UID",
        b"FLAGS (\\Seen)",
        b"OK [UIDVALIDITY 3857529045] UIDs valid",
        b"11 EXISTS",
        b"0 RECENT",
        b"[READ-ONLY] Examine completed",
    ]

    status = parse_select(lines)

    assert status.exists == 11
    assert status.uidvalidity == 3857529045
    assert status.uidnext == 12
    assert status.read_only


def test_select_without_uidvalidity() -> None:
    with pytest.raises(ValueError) as caught:
        parse_select([b"3 EXISTS", b"Select completed"])

    assert "UIDVALIDITY" in str(caught.value)


def test_search_and_capabilities() -> None:
    assert parse_search([b"4 7 9", b"Search completed"]) == [4, 7, 9]
    assert parse_search([b"Search completed"]) == []
    capabilities = parse_capabilities("CAPABILITY IMAP4rev1 auth=plain IDLE")
    assert capabilities == frozenset({"IMAP4REV1", "AUTH=PLAIN", "IDLE"})


def test_internal_date_malformed() -> None:
    assert parse_internal_date("31-Foo-2026 10:00:00 +0000") is None
    assert parse_internal_date("") is None
    assert parse_internal_date("01-Jan-2026 00:00:00 -0130") == datetime(
        2026, 1, 1, tzinfo=timezone(-timedelta(hours=1, minutes=30))
    )


def test_backoff_doubles_with_jitter() -> None:
    backoff = Backoff(base=2.0, cap=60.0, rng=random.Random(1))

    delays = [backoff.next_delay() for _ in range(8)]
    backoff.reset()
    after_reset = backoff.next_delay()

    for attempt, delay in enumerate(delays):
        ceiling = min(60.0, 2.0 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert 1.0 <= after_reset <= 2.0


async def test_manual_clock_wakes_in_order() -> None:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [
        asyncio.create_task(sleeper("late", 30)),
        asyncio.create_task(sleeper("early", 10)),
    ]
    await clock.wait_for_sleepers(2)
    await clock.advance(15)
    early_only = list(woke)
    await clock.advance(15)
    await asyncio.gather(*tasks)

    assert early_only == ["early"]
    assert woke == ["early", "late"]
    assert clock.now() == datetime(2026, 3, 1, 0, 0, 30, tzinfo=UTC)
    assert clock.monotonic() == 30
