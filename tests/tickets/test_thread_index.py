"""Outlook Thread-Index parsing and conversation extension."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from sagicc_tui.tickets import parse_thread_index
from sagicc_tui.tickets.thread_index import add_child_block, make_thread_index

GUID = bytes.fromhex("5c1e0a77b3e04d1a9f2e61c0d4a3b2e1")
STARTED = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def test_parse_fixture_header() -> None:
    parsed = parse_thread_index(base64.b64decode("AQHabhJWXB4Kd7PgTRqfLmHA1KOy4Q=="))

    assert parsed is not None
    assert parsed.depth == 0
    assert parsed.guid == GUID
    assert abs((parsed.started_at - STARTED).total_seconds()) < 2


def test_child_blocks() -> None:
    root = make_thread_index(GUID, STARTED)
    reply = add_child_block(root, b"\x00\x00\x12\x34\x56")
    second = add_child_block(reply)
    parsed = parse_thread_index(second)

    assert parsed is not None
    assert parsed.root == root
    assert parsed.child_blocks == (b"\x00\x00\x12\x34\x56", b"\x00\x00\x00\x00\x01")


def test_extends() -> None:
    root = parse_thread_index(make_thread_index(GUID, STARTED))
    reply = parse_thread_index(add_child_block(root.root))
    other = parse_thread_index(make_thread_index(bytes(16), STARTED))

    assert reply.extends(root)
    assert not root.extends(reply)
    assert not root.extends(root)
    assert not reply.extends(other)


@pytest.mark.parametrize("size", [0, 5, 21, 23, 26, 28])
def test_invalid_lengths(size: int) -> None:
    assert parse_thread_index(bytes(size)) is None


def test_none_input() -> None:
    assert parse_thread_index(None) is None


def test_make_rejects_bad_guid() -> None:
    with pytest.raises(ValueError, match="15 bytes, need 16"):
        make_thread_index(bytes(15), STARTED)
