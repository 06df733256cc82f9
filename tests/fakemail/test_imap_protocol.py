"""IMAP protocol edge cases on the wire: syntax errors, literals, IDLE, faults."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from fakemail.faults import FaultAction, FaultPlan, FaultRule
from fakemail.transcript import Transcript
from tests.fakemail.imap_support import (
    PASSWORD,
    USER,
    RawClient,
    fill,
    sample_message,
    serve,
)

GARBAGE = [
    b"\x01\x02\x03",
    b"A1",
    b"A2 NOSUCHCOMMAND",
    b"A3 SELECT",
    b'A4 SELECT "INBOX',
    b"A5 FETCH 1 (FLAGS",
    b"A6 FETCH 0 FLAGS",
    b"A7 FETCH 1:2 BODY[9.X]",
    b"A8 UID",
    b"A9 UID NOOP",
    b"A10 SEARCH NOSUCHKEY",
    b"A11 STORE 1 +FLAGS (\\Nonsense)",
    b"A12 LOGIN only-user",
    b"A13 STATUS INBOX (BOGUS)",
    b"A14 FETCH 99 FLAGS",
    b"A15 CREATE &Jjo",
    b"A16 APPEND INBOX {3}",
]


@pytest.mark.parametrize("line", GARBAGE)
async def test_malformed_command_gets_bad(tmp_path: Path, line: bytes):
    async with serve(tmp_path) as running:
        fill(running.store, 2)
        client = await RawClient.connect(running.port)
        await client.login()
        assert (await client.command(b"S", b"SELECT INBOX"))[-1].startswith(b"S OK")
        await client.send(line + b"\r\n")
        if line.endswith(b"{3}"):
            # The server requests the literal, then finds junk after it.
            assert (await client.line()).startswith(b"+ ")
            await client.send(b"abc junk\r\n")
        answer = await client.line()
        assert b" BAD " in answer, answer
        # The connection survives and still responds.
        assert (await client.command(b"Z", b"NOOP"))[-1] == b"Z OK NOOP completed.\r\n"
        await client.close()


async def test_overlong_line_gets_bad(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        await client.send(b"A NOOP " + b"x" * 1_500_000 + b"\r\n")
        answer = await client.line()
        # Tagged, so a client waiting for "A" gets its response.
        assert answer.startswith(b"A BAD Command line too long"), answer[:80]
        assert (await client.command(b"B", b"NOOP"))[-1].startswith(b"B OK")
        await client.close()


async def test_overlong_line_without_tag_gets_untagged_bad(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        await client.send(b"x" * 1_500_000 + b"\r\n")
        answer = await client.line()
        assert answer.startswith(b"* BAD Command line too long"), answer[:80]
        await client.close()


async def test_command_before_login_gets_no(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        lines = await client.command(b"A", b"SELECT INBOX")
        assert lines[-1].startswith(b"A NO ")
        await client.close()


async def test_login_with_synchronizing_literals(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        user, password = USER.encode(), PASSWORD.encode()
        await client.send(b"A LOGIN {%d}\r\n" % len(user))
        assert (await client.line()).startswith(b"+ ")
        await client.send(user + b" {%d}\r\n" % len(password))
        assert (await client.line()).startswith(b"+ ")
        await client.send(password + b"\r\n")
        assert (await client.line()).startswith(b"A OK ")
        await client.close()


async def test_append_with_nonsynchronizing_literal(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        await client.login()
        message = sample_message(7)
        await client.send(
            b'A APPEND INBOX (\\Seen $Label) "05-Jun-2026 10:11:12 +0200" {%d+}\r\n'
            % len(message)
            + message
            + b"\r\n"
        )
        answer = await client.line()
        assert answer.startswith(b"A OK [APPENDUID 1 1]"), answer
        [stored] = running.store.messages(USER, "INBOX")
        assert stored.raw == message
        assert stored.flags == {"\\Seen", "$Label"}
        assert stored.internaldate.isoformat() == "2026-06-05T10:11:12+02:00"
        await client.close()


async def test_append_to_missing_folder_asks_trycreate(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        await client.login()
        lines = await client.command(b"A", b"APPEND Nowhere {2+}\r\nhi")
        assert lines[-1].startswith(b"A NO [TRYCREATE]")
        await client.close()


@pytest.mark.parametrize(
    ("wire", "name"),
    [
        (b"Entw&APw-rfe", "Entwürfe"),
        (b"&-", "&"),
        (b"Tom &- Jerry", "Tom & Jerry"),
        (b"&ZeVnLIqe-", "日本語"),
        (b"Archive/&AMk-t&AOk-", "Archive/Été"),
    ],
)
async def test_modified_utf7_folder_names(tmp_path: Path, wire: bytes, name: str):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        await client.login()
        created = await client.command(b"C", b'CREATE "' + wire + b'"')
        assert created[-1].startswith(b"C OK"), created
        assert running.store.has_folder(USER, name)
        listed = await client.command(b"L", b'LIST "" *')
        assert any(
            line.rstrip(b"\r\n").endswith(wire) or wire in line for line in listed
        )
        selected = await client.command(b"S", b'SELECT "' + wire + b'"')
        assert selected[-1].startswith(b"S OK")
        await client.close()


async def test_list_shows_hierarchy_and_noselect_parents(tmp_path: Path):
    async with serve(tmp_path) as running:
        running.store.create_folder(USER, "Archive/2026/June")
        client = await RawClient.connect(running.port)
        await client.login()
        lines = await client.command(b"L", b'LIST "" *')
        assert lines[:-1] == [
            b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
            b'* LIST (\\Noselect \\HasChildren) "/" Archive\r\n',
            b'* LIST (\\Noselect \\HasChildren) "/" Archive/2026\r\n',
            b'* LIST (\\HasNoChildren) "/" Archive/2026/June\r\n',
        ]
        lines = await client.command(b"M", b'LIST "" %')
        assert [line.split(b'"/" ')[1] for line in lines[:-1]] == [
            b"INBOX\r\n",
            b"Archive\r\n",
        ]
        lines = await client.command(b"N", b'LIST "" ""')
        assert lines[0] == b'* LIST (\\Noselect) "/" ""\r\n'
        await client.close()


async def test_idle_reports_new_and_expunged_mail(tmp_path: Path):
    async with serve(tmp_path) as running:
        fill(running.store, 2)
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")
        await client.send(b"I IDLE\r\n")
        assert (await client.line()).startswith(b"+ ")

        uid = running.store.deliver(USER, "INBOX", sample_message(3))
        assert await client.line() == b"* 3 EXISTS\r\n"
        assert await client.line() == b"* 3 RECENT\r\n"

        running.store.store_flags(USER, "INBOX", [1], ["\\Deleted"], "add")
        running.store.expunge(USER, "INBOX", [1])
        assert (
            await client.line() == b"* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\n"
        )
        assert await client.line() == b"* 1 EXPUNGE\r\n"
        assert await client.line() == b"* 2 RECENT\r\n"

        await client.send(b"DONE\r\n")
        assert await client.line() == b"I OK Idle completed.\r\n"
        lines = await client.command(b"F", b"FETCH 2 (UID)")
        assert lines[0] == b"* 2 FETCH (UID %d)\r\n" % uid
        await client.close()


async def test_other_session_changes_reach_selected_session(tmp_path: Path):
    async with serve(tmp_path) as running:
        fill(running.store, 3)
        watcher = await RawClient.connect(running.port)
        actor = await RawClient.connect(running.port)
        for client in (watcher, actor):
            await client.login()
            await client.command(b"S", b"SELECT INBOX")
        await actor.command(b"D", b"UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        await actor.command(b"E", b"EXPUNGE")

        # EXPUNGE must wait while a non-UID FETCH runs (RFC 3501 7.4.1).
        fetched = await watcher.command(b"F", b"FETCH 1:3 (UID)")
        assert b"EXPUNGE" not in b"".join(fetched)
        assert b"* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))\r\n" in fetched
        noop = await watcher.command(b"N", b"NOOP")
        assert noop == [
            b"* 2 EXPUNGE\r\n",
            b"* 2 RECENT\r\n",
            b"N OK NOOP completed.\r\n",
        ]
        for client in (watcher, actor):
            await client.close()


async def test_uidvalidity_change_ends_selected_session(tmp_path: Path):
    async with serve(tmp_path) as running:
        fill(running.store, 3)
        running.store.expunge(USER, "INBOX", [1])
        client = await RawClient.connect(running.port)
        await client.login()
        selected = await client.command(b"S", b"SELECT INBOX")
        assert b"* OK [UIDVALIDITY 1] UIDs valid\r\n" in selected

        new_value = running.store.reset_uidvalidity(USER, "INBOX")
        await client.send(b"N NOOP\r\n")
        assert (await client.line()).startswith(b"* BYE [UIDVALIDITY]")
        assert await client.line() == b""

        again = await RawClient.connect(running.port)
        await again.login()
        selected = await again.command(b"S", b"SELECT INBOX")
        assert b"* OK [UIDVALIDITY %d] UIDs valid\r\n" % new_value in selected
        assert new_value != 1
        assert b"* OK [UIDNEXT 3] Predicted next UID\r\n" in selected
        fetched = await again.command(b"F", b"UID FETCH 1:* (UID)")
        assert fetched[:-1] == [b"* 1 FETCH (UID 1)\r\n", b"* 2 FETCH (UID 2)\r\n"]
        await again.close()


async def test_disabled_capability_answers_bad(tmp_path: Path):
    async with serve(tmp_path, disabled_capabilities=["IDLE", "MOVE"]) as running:
        client = await RawClient.connect(running.port)
        await client.login()
        capability = await client.command(b"C", b"CAPABILITY")
        assert b" IDLE" not in capability[0]
        assert b" MOVE" not in capability[0]
        lines = await client.command(b"I", b"IDLE")
        assert lines[-1].startswith(b"I BAD ")
        await client.close()


async def test_authenticate_cancel_and_sasl_ir(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await RawClient.connect(running.port)
        await client.send(b"A AUTHENTICATE PLAIN\r\n")
        assert (await client.line()).startswith(b"+")
        await client.send(b"*\r\n")
        assert (await client.line()).startswith(b"A BAD ")
        import base64

        wrong = base64.b64encode(f"\0{USER}\0wrong".encode())
        lines = await client.command(b"B", b"AUTHENTICATE PLAIN " + wrong)
        assert lines[-1] == b"B NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
        right = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())
        lines = await client.command(b"C", b"AUTHENTICATE PLAIN " + right)
        assert lines[-1].startswith(b"C OK ")
        await client.close()


async def test_starttls_rejects_pipelined_plaintext(tmp_path: Path):
    async with serve(tmp_path, "starttls") as running:
        client = await RawClient.connect(running.port)
        await client.send(b"A STARTTLS\r\nB LOGIN x y\r\n")
        answer = await client.line()
        assert answer.startswith(b"A BAD ")
        assert await client.line() == b""
        await client.close()


async def test_starttls_upgrades_connection(tmp_path: Path):
    async with serve(tmp_path, "starttls") as running:
        client = await RawClient.connect(running.port)
        lines = await client.command(b"A", b"STARTTLS")
        assert lines[-1].startswith(b"A OK")
        context = ssl.create_default_context(cafile=str(running.ca_path))
        await client.writer.start_tls(context, server_hostname="127.0.0.1")
        capability = await client.command(b"B", b"CAPABILITY")
        assert b"STARTTLS" not in capability[0]
        await client.login()
        await client.close()


async def _faulty(tmp_path: Path, rule: FaultRule, sleeps: list[float] | None = None):
    plan = FaultPlan([rule])

    async def sleep(seconds: float) -> None:
        (sleeps if sleeps is not None else []).append(seconds)

    return serve(tmp_path, faults=plan, sleep=sleep)


async def test_fault_delay_uses_injected_sleep(tmp_path: Path):
    sleeps: list[float] = []
    rule = FaultRule("UID FETCH", FaultAction.DELAY, seconds=30)
    async with await _faulty(tmp_path, rule, sleeps) as running:
        fill(running.store, 1)
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")
        lines = await client.command(b"F", b"UID FETCH 1 (UID)")
        assert lines[-1].startswith(b"F OK")
        assert sleeps == [30]
        assert rule.fired == 1
        await client.close()


@pytest.mark.parametrize("action", [FaultAction.NO, FaultAction.BAD])
async def test_fault_answers_status(tmp_path: Path, action: FaultAction):
    rule = FaultRule("SELECT", action, text="Server busy, try later")
    async with await _faulty(tmp_path, rule) as running:
        client = await RawClient.connect(running.port)
        await client.login()
        lines = await client.command(b"S", b"SELECT INBOX")
        assert lines == [b"S %s Server busy, try later\r\n" % action.name.encode()]
        # Only the first SELECT is affected.
        lines = await client.command(b"T", b"SELECT INBOX")
        assert lines[-1].startswith(b"T OK")
        await client.close()


async def test_fault_bye_closes_connection(tmp_path: Path):
    rule = FaultRule("NOOP", FaultAction.BYE, text="Going down", nth=2)
    async with await _faulty(tmp_path, rule) as running:
        client = await RawClient.connect(running.port)
        assert (await client.command(b"A", b"NOOP"))[-1].startswith(b"A OK")
        await client.send(b"B NOOP\r\n")
        assert await client.line() == b"* BYE Going down\r\n"
        assert await client.line() == b""
        await client.close()


async def test_fault_drop_closes_without_answer(tmp_path: Path):
    rule = FaultRule("LOGIN", FaultAction.DROP)
    async with await _faulty(tmp_path, rule) as running:
        client = await RawClient.connect(running.port)
        await client.send(f"A LOGIN {USER} {PASSWORD}\r\n".encode())
        assert await client.line() == b""
        await client.close()


async def test_fault_cut_literal_sends_half(tmp_path: Path):
    rule = FaultRule("UID FETCH", FaultAction.CUT_LITERAL)
    async with await _faulty(tmp_path, rule) as running:
        message = sample_message(1, size=10_000)
        running.store.deliver(USER, "INBOX", message)
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")
        await client.send(b"F UID FETCH 1 (BODY.PEEK[])\r\n")
        head = await client.line()
        assert head == b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % len(message)
        rest = await asyncio.wait_for(client.reader.read(), 10)
        assert rest == message[: len(message) // 2]
        await client.close()


async def test_drop_connections_closes_every_client(tmp_path: Path):
    async with serve(tmp_path) as running:
        clients = [await RawClient.connect(running.port) for _ in range(3)]
        running.server.drop_connections()
        for client in clients:
            assert await client.line() == b""
            await client.close()


async def test_transcript_redacts_credentials(tmp_path: Path):
    path = tmp_path / "transcript.log"
    transcript = Transcript(path)
    async with serve(tmp_path, transcript=transcript) as running:
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"N", b"NOOP")
        message = sample_message(3)
        await client.command(
            b"A", b"APPEND INBOX {%d+}\r\n%s" % (len(message), message)
        )
        await client.close()
    transcript.close()
    text = path.read_text()
    assert f"C A APPEND INBOX {{{len(message)}}} <{len(message)} bytes>\n" in text
    assert "Question 3" not in text
    assert all(line.startswith("imap-") for line in text.splitlines())
    assert PASSWORD not in text
    assert "C L LOGIN <redacted>" in text
    assert "C N NOOP" in text
    assert "S N OK NOOP completed." in text
