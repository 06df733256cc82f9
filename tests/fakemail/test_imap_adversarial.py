"""Hostile IMAP input: each gets BAD or an answer, and other clients carry on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fakemail.imap.mailboxes import _pattern
from fakemail.transcript import Transcript
from tests.fakemail.imap_support import PASSWORD, RawClient, fill, serve

# A LIST pattern of many wildcards made the regex matcher backtrack for
# hours while holding the event loop, so every client of the server hung.
_WILDCARD_PATTERN = "*a" * 30 + "x"


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*", "INBOX", True),
        ("*", "a/b/c", True),
        ("%", "a", True),
        ("%", "a/b", False),
        ("a/%", "a/b", True),
        ("a/%", "a/b/c", False),
        ("a/*", "a/b/c", True),
        ("a*c", "abbbc", True),
        ("a*c", "abbbd", False),
        ("a%c", "ab/c", False),
        ("inbox", "INBOX", True),
        ("Inbox/%", "INBOX/Sub", True),
        ("archive", "Archive", False),
        ("", "", True),
        ("a.b", "axb", False),
        ("a+", "aa", False),
        ("*%**%a", "x/ya", True),
        ("%%a", "x/a", False),
        ("*a*b", "xaYb", True),
        ("%a%b", "xaYb", True),
        ("%a%b", "x/aYb", False),
        ("%a%b", "xa/b", False),
        ("a*b%c", "aXX/YbZc", True),
        ("a*b%c", "aXXbZ/c", False),
        ("inbox/*a*", "INBOX/xay", True),
        ("archive/*a*", "Archive/xay", False),
        ("*%" * 40 + "x", "a" * 60, False),
        (_WILDCARD_PATTERN, "a" * 60, False),
        (_WILDCARD_PATTERN, "a" * 60 + "x", True),
    ],
)
def test_list_pattern_matches(pattern: str, name: str, expected: bool) -> None:
    assert _pattern(pattern)(name) is expected


def test_list_pattern_finishes_in_child() -> None:
    # Run in a child process so a matcher that backtracks fails the test
    # through the timeout instead of hanging the whole run.
    code = (
        "from fakemail.imap.mailboxes import _pattern\n"
        f"print(_pattern({_WILDCARD_PATTERN!r})('a' * 60))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


async def test_list_wildcards_leave_others_served(tmp_path: Path) -> None:
    async with serve(tmp_path) as running:
        fill(running.store, 1)
        running.store.create_folder("agent@example.test", "a" * 60)
        attacker = await RawClient.connect(running.port)
        other = await RawClient.connect(running.port)
        await attacker.login()
        await other.login()

        pattern = _WILDCARD_PATTERN.encode()
        listed = await attacker.command(b"A1", b'LIST "" "' + pattern + b'"')
        noop = await other.command(b"B1", b"NOOP")

        assert listed[-1].startswith(b"A1 OK")
        assert noop[-1].startswith(b"B1 OK")
        await attacker.close()
        await other.close()


@pytest.mark.parametrize(
    "criteria",
    [
        b"NOT " * 5_000 + b"ALL",
        b"(" * 5_000 + b"ALL" + b")" * 5_000,
        b"OR " * 5_000 + b"ALL " * 5_001,
    ],
    ids=["not", "parentheses", "or"],
)
async def test_deep_search_gets_bad(tmp_path: Path, criteria: bytes) -> None:
    async with serve(tmp_path) as running:
        fill(running.store, 2)
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")

        lines = await client.command(b"A1", b"SEARCH " + criteria.strip())
        after = await client.command(b"A2", b"NOOP")

        assert lines[-1].startswith(b"A1 BAD"), lines[-1]
        assert after[-1].startswith(b"A2 OK")
        await client.close()


async def test_moderate_search_nesting_works(tmp_path: Path) -> None:
    async with serve(tmp_path) as running:
        fill(running.store, 2)
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")

        lines = await client.command(b"A1", b"SEARCH " + b"NOT " * 20 + b"ALL")

        assert lines[0] == b"* SEARCH 1 2\r\n"
        assert lines[-1].startswith(b"A1 OK")
        await client.close()


@pytest.mark.parametrize(
    "command",
    [
        b'L1  LOGIN agent@example.test "s3cret-imap-password"',
        b'L2\tLOGIN agent@example.test "s3cret-imap-password"',
        b'L3 LOGIN\tagent@example.test "s3cret-imap-password"',
        b' L4 LOGIN agent@example.test "s3cret-imap-password"',
        b"L5  AUTHENTICATE PLAIN AGFnZW50QGV4YW1wbGUudGVzdABzM2NyZXQ=",
        b"L6 UID LOGIN agent@example.test s3cret-imap-password",
    ],
    ids=["double-space", "tab-after-tag", "tab-after-login", "lead", "auth", "uid"],
)
async def test_malformed_login_redacted(tmp_path: Path, command: bytes) -> None:
    path = tmp_path / "transcript.log"
    transcript = Transcript(path)
    async with serve(tmp_path, transcript=transcript) as running:
        client = await RawClient.connect(running.port)
        await client.send(command + b"\r\n")
        await client.line()
        await client.command(b"N", b"NOOP")
        await client.close()
    transcript.close()

    text = path.read_text()
    assert PASSWORD not in text
    assert "AGFnZW50QGV4YW1wbGUudGVzdABzM2NyZXQ=" not in text
    assert "C N NOOP" in text


@pytest.mark.parametrize(
    "command",
    [
        b"CREATE " + b"a/" * 100 + b"b",
        b"CREATE " + b"x" * 1001,
        b"RENAME Archive " + b"a/" * 100 + b"b",
    ],
    ids=["create-deep", "create-long", "rename-deep"],
)
async def test_huge_folder_name_rejected(tmp_path: Path, command: bytes) -> None:
    async with serve(tmp_path) as running:
        running.store.create_folder("agent@example.test", "Archive")
        client = await RawClient.connect(running.port)
        await client.login()

        lines = await client.command(b"A1", command)
        listed = await client.command(b"A2", b'LIST "" *')

        assert lines[-1].startswith(b"A1 NO [CANNOT]"), lines[-1]
        assert len(listed) == 3
        await client.close()


async def test_deep_folder_within_limit_created(tmp_path: Path) -> None:
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        await client.login()

        lines = await client.command(b"A1", b"CREATE " + b"a/" * 63 + b"b")

        assert lines[-1].startswith(b"A1 OK")
        await client.close()
