"""FETCH sections, SEARCH, STORE, COPY, MOVE and mailbox commands on fakemail alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakemail.imap_support import USER, RawClient, fill, serve
from tests.fakemail.test_imap_dovecot import MULTIPART, SIMPLE


async def _selected(running, *raws: bytes) -> RawClient:
    for raw in raws:
        running.store.deliver(USER, "INBOX", raw)
    client = await RawClient.connect(running.port)
    await client.login()
    await client.command(b"S", b"SELECT INBOX")
    return client


async def _fetch_literal(client: RawClient, request: bytes) -> bytes:
    """Send a FETCH of one section and return that section's literal."""
    await client.send(b"F " + request + b"\r\n")
    head = await client.line()
    size = int(head.rsplit(b"{", 1)[1].rstrip(b"}\r\n"))
    data = await client.reader.readexactly(size)
    rest = await client.until(b"F")
    assert rest[-1].startswith(b"F OK"), rest
    return data


SECTIONS = [
    (b"BODY.PEEK[1.1]", b"Gr=C3=BC=C3=9Fe, die Rechnung fehlt."),
    (b"BODY.PEEK[2]", b"JVBERi0xLjQKJcfsj6IKCg=="),
    (
        b"BODY.PEEK[1.2.MIME]",
        b"Content-Type: text/html; charset=utf-8\r\n\r\n",
    ),
    (b"BODY.PEEK[3.HEADER.FIELDS (SUBJECT)]", b"Subject: Forwarded\r\n\r\n"),
    # The CRLF before a boundary belongs to the boundary, not to the part.
    (b"BODY.PEEK[3.TEXT]", b"Forwarded body."),
    (b"BODY.PEEK[3.1]", b"Forwarded body."),
    (
        b"BODY.PEEK[HEADER.FIELDS (Message-ID In-Reply-To)]",
        b"Message-ID: <invoice-2@example.de>\r\n"
        b"In-Reply-To: <printer-1@example.org>\r\n\r\n",
    ),
    (b"BODY.PEEK[TEXT]<0.12>", b"This is a mu"),
    (b"BODY.PEEK[]<6.3>", b"=?u"),
    (b"BODY.PEEK[]<100000.3>", b""),
    (b"BODY.PEEK[7]", b""),
]


@pytest.mark.parametrize(("request_", "expected"), SECTIONS)
async def test_fetch_sections(tmp_path: Path, request_: bytes, expected: bytes):
    async with serve(tmp_path) as running:
        client = await _selected(running, MULTIPART)
        assert await _fetch_literal(client, b"FETCH 1 " + request_) == expected
        await client.close()


async def test_fetch_whole_parts_of_simple_message(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await _selected(running, SIMPLE)
        header, _, body = SIMPLE.partition(b"\r\n\r\n")
        assert await _fetch_literal(client, b"FETCH 1 BODY.PEEK[1]") == body
        assert (
            await _fetch_literal(client, b"FETCH 1 RFC822.HEADER")
            == header + b"\r\n\r\n"
        )
        assert await _fetch_literal(client, b"FETCH 1 BODY.PEEK[TEXT]") == body
        await client.close()


async def test_fetch_body_sets_seen_but_peek_does_not(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await _selected(running, SIMPLE, SIMPLE)
        await _fetch_literal(client, b"FETCH 1 BODY.PEEK[]")
        await client.send(b"G FETCH 2 BODY[]\r\n")
        head = await client.line()
        assert head.startswith(b"* 2 FETCH (FLAGS (\\Seen \\Recent) BODY[] {")
        await client.until(b"G")
        flags = [m.flags for m in running.store.messages(USER, "INBOX")]
        assert flags == [set(), {"\\Seen"}]
        await client.close()


async def test_fetch_macros(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await _selected(running, SIMPLE)
        lines = await client.command(b"A", b"FETCH 1 ALL")
        assert lines[0].startswith(b"* 1 FETCH (FLAGS (\\Recent) INTERNALDATE ")
        assert b" RFC822.SIZE %d ENVELOPE (" % len(SIMPLE) in lines[0]
        lines = await client.command(b"B", b"FETCH 1 FULL")
        assert (
            b' BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 41 2)'
            in (lines[0])
        )
        await client.close()


async def test_fetch_envelope_fields(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await _selected(running, SIMPLE)
        lines = await client.command(b"A", b"FETCH 1 ENVELOPE")
        assert lines[0] == (
            b'* 1 FETCH (ENVELOPE ("Tue, 02 Jun 2026 08:30:00 +0200" "Printer on fire" '
            b'(("Ann Example" NIL "ann" "example.org")) '
            b'(("Ann Example" NIL "ann" "example.org")) '
            b'((NIL NIL "replies" "example.org")) '
            b'(("Support" NIL "support" "example.test")(NIL NIL "bob" "example.net")) '
            b'(("Carol, Q." NIL "carol" "example.org")) NIL NIL '
            b'"<printer-1@example.org>"))\r\n'
        )
        await client.close()


SEARCHES = [
    (b"SEARCH ALL", b"1 2 3 4 5"),
    (b"SEARCH 2:4 NOT 3", b"2 4"),
    (b"SEARCH UID 4:*", b"4 5"),
    (b"SEARCH SUBJECT question", b"1 2 3 4 5"),
    (b"SEARCH SUBJECT {10}\r\nQuestion 3", b"3"),
    (b"SEARCH FROM customer2@", b"2"),
    (b"SEARCH OR FROM customer1@ (TO nobody BODY number)", b"1"),
    (b"SEARCH BODY nowhere", b""),
    (b'SEARCH BODY "number 4"', b"4"),
    (b"SEARCH TEXT m5@example", b"5"),
    (b"SEARCH HEADER Message-ID m2@", b"2"),
    (b"SEARCH SINCE 1-Jun-2026 BEFORE 2-Jun-2026", b"1 2 3 4 5"),
    (b"SEARCH ON 2-Jun-2026", b""),
    (b"SEARCH SENTON 4-Jun-2026", b"3"),
    (b"SEARCH SEEN", b"2"),
    (b"SEARCH UNSEEN UNFLAGGED", b"1 3 4 5"),
    (b"SEARCH KEYWORD $Later", b"4"),
    (b"SEARCH UNKEYWORD $Later DELETED", b""),
    (b"SEARCH NEW", b"1 3 4 5"),
    (b"SEARCH OLD", b""),
    (b"SEARCH RECENT SMALLER 100", b""),
    (b"SEARCH LARGER 100", b"1 2 3 4 5"),
    (b"SEARCH CHARSET UTF-8 SUBJECT 3", b"3"),
    (b"UID SEARCH 1:2", b"1 2"),
]


@pytest.mark.parametrize(("command", "expected"), SEARCHES)
async def test_search_keys(tmp_path: Path, command: bytes, expected: bytes):
    async with serve(tmp_path) as running:
        fill(running.store, 5)
        running.store.set_flags(USER, "INBOX", 2, ["\\Seen"])
        running.store.set_flags(USER, "INBOX", 4, ["$Later"])
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")
        if b"{10}" in command:
            first, literal = command.split(b"\r\n")
            await client.send(b"A " + first + b"\r\n")
            assert (await client.line()).startswith(b"+ ")
            await client.send(literal + b"\r\n")
            lines = await client.until(b"A")
        else:
            lines = await client.command(b"A", command)
        assert lines[0] == (b"* SEARCH " + expected).rstrip() + b"\r\n"
        assert lines[-1].startswith(b"A OK")
        await client.close()


async def test_search_unknown_charset(tmp_path: Path):
    async with serve(tmp_path) as running:
        client = await _selected(running, SIMPLE)
        lines = await client.command(b"A", b"SEARCH CHARSET KOI8-R ALL")
        assert lines[-1].startswith(b"A NO [BADCHARSET")
        await client.close()


async def test_store_variants_answer_flags(tmp_path: Path):
    async with serve(tmp_path) as running:
        fill(running.store, 2)
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")
        lines = await client.command(b"A", b"STORE 1:2 +FLAGS (\\Flagged $Work)")
        assert lines[:-1] == [
            b"* 1 FETCH (FLAGS (\\Flagged \\Recent $Work))\r\n",
            b"* 2 FETCH (FLAGS (\\Flagged \\Recent $Work))\r\n",
        ]
        lines = await client.command(b"B", b"UID STORE 2 -FLAGS ($Work)")
        assert lines[0] == b"* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\r\n"
        lines = await client.command(b"C", b"STORE 1 FLAGS.SILENT (\\Seen)")
        assert lines == [b"C OK Store completed.\r\n"]
        flags = [m.flags for m in running.store.messages(USER, "INBOX")]
        assert flags == [{"\\Seen"}, {"\\Flagged"}]
        await client.close()


async def test_move_and_uid_expunge(tmp_path: Path):
    async with serve(tmp_path) as running:
        fill(running.store, 4)
        running.store.create_folder(USER, "Done")
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")
        lines = await client.command(b"M", b"UID MOVE 2:3 Done")
        assert lines == [
            b"* OK [COPYUID 2 2:3 1:2] Moved.\r\n",
            b"* 2 EXPUNGE\r\n",
            b"* 2 EXPUNGE\r\n",
            b"* 2 RECENT\r\n",
            b"M OK Move completed.\r\n",
        ]
        await client.command(b"D", b"STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        lines = await client.command(b"E", b"UID EXPUNGE 4")
        assert lines[0] == b"* 2 EXPUNGE\r\n"
        assert [m.uid for m in running.store.messages(USER, "INBOX")] == [1]
        assert [m.uid for m in running.store.messages(USER, "Done")] == [1, 2]
        lines = await client.command(b"F", b"COPY 1 Missing")
        assert lines[-1].startswith(b"F NO [TRYCREATE]")
        await client.close()


async def test_mailbox_management(tmp_path: Path):
    async with serve(tmp_path) as running:
        fill(running.store, 1)
        client = await RawClient.connect(running.port)
        await client.login()
        assert (await client.command(b"A", b"CREATE Projects/2026/"))[-1].startswith(
            b"A OK"
        )
        assert running.store.has_folder(USER, "Projects")
        lines = await client.command(b"B", b"CREATE Projects")
        assert lines[-1].startswith(b"B NO [ALREADYEXISTS]")
        assert (await client.command(b"C", b"RENAME Projects Work"))[-1].startswith(
            b"C OK"
        )
        assert running.store.has_folder(USER, "Work/2026")
        lines = await client.command(b"D", b"STATUS Work/2026 (MESSAGES UIDVALIDITY)")
        assert lines[0].startswith(b"* STATUS Work/2026 (MESSAGES 0 UIDVALIDITY ")
        assert (await client.command(b"E", b"UNSUBSCRIBE Work"))[-1].startswith(b"E OK")
        lines = await client.command(b"F", b'LSUB "" *')
        assert lines[:-1] == [
            b'* LSUB () "/" INBOX\r\n',
            b'* LSUB () "/" Work/2026\r\n',
        ]
        assert (await client.command(b"G", b"DELETE Work/2026"))[-1].startswith(b"G OK")
        lines = await client.command(b"H", b"DELETE INBOX")
        assert lines[-1].startswith(b"H NO")
        lines = await client.command(b"I", b"NAMESPACE")
        assert lines[0] == b'* NAMESPACE (("" "/")) NIL NIL\r\n'
        lines = await client.command(b"J", b'ID ("name" "test")')
        assert lines[0].startswith(b'* ID ("name" "fakemail"')
        lines = await client.command(b"K", b"ENABLE CONDSTORE")
        assert lines == [b"* ENABLED\r\n", b"K OK Enabled.\r\n"]
        await client.command(b"S", b"EXAMINE INBOX")
        lines = await client.command(b"L", b"EXPUNGE")
        assert lines[-1].startswith(b"L NO [READ-ONLY]")
        assert (await client.command(b"U", b"UNSELECT"))[-1].startswith(b"U OK")
        lines = await client.command(b"V", b"FETCH 1 FLAGS")
        assert lines[-1].startswith(b"V BAD")
        await client.close()


async def test_close_expunges_deleted(tmp_path: Path):
    async with serve(tmp_path) as running:
        fill(running.store, 3)
        running.store.set_flags(USER, "INBOX", 2, ["\\Deleted"])
        client = await RawClient.connect(running.port)
        await client.login()
        await client.command(b"S", b"SELECT INBOX")
        lines = await client.command(b"C", b"CLOSE")
        assert lines == [b"C OK Close completed.\r\n"]
        assert [m.uid for m in running.store.messages(USER, "INBOX")] == [1, 3]
        await client.close()
