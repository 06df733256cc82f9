"""Random command lines never crash a session: each gets a tagged response."""

from __future__ import annotations

import random
from pathlib import Path

from tests.fakemail.imap_support import RawClient, fill, serve

# IDLE and AUTHENTICATE wait for more client input and LOGOUT ends the
# session, so the generator leaves them out.
COMMANDS = [
    b"CAPABILITY",
    b"NOOP",
    b"SELECT",
    b"EXAMINE",
    b"CREATE",
    b"DELETE",
    b"RENAME",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"LIST",
    b"LSUB",
    b"STATUS",
    b"APPEND",
    b"CHECK",
    b"CLOSE",
    b"UNSELECT",
    b"EXPUNGE",
    b"SEARCH",
    b"FETCH",
    b"STORE",
    b"COPY",
    b"MOVE",
    b"UID FETCH",
    b"UID STORE",
    b"UID SEARCH",
    b"UID COPY",
    b"UID MOVE",
    b"UID EXPUNGE",
    b"NAMESPACE",
    b"ID",
    b"ENABLE",
    b"LOGIN",
    b"STARTTLS",
]
TOKENS = [
    b"1",
    b"2",
    b"*",
    b"1:*",
    b"3:1",
    b"0",
    b"4294967296",
    b"1,2",
    b"INBOX",
    b"Archive",
    b'"INBOX"',
    b'"a \\" b"',
    b'""',
    b"(",
    b")",
    b"()",
    b"[",
    b"]",
    b"BODY[]",
    b"BODY.PEEK[HEADER.FIELDS",
    b"(SUBJECT)",
    b"BODY[1.MIME]",
    b"BODY[TEXT]<0.5>",
    b"<0.0>",
    b"FLAGS",
    b"+FLAGS",
    b"-FLAGS.SILENT",
    b"(\\Seen)",
    b"\\Deleted",
    b"$Label",
    b"ALL",
    b"FULL",
    b"ENVELOPE",
    b"BODYSTRUCTURE",
    b"RFC822.SIZE",
    b"NOT",
    b"OR",
    b"SUBJECT",
    b"SINCE",
    b"1-Jan-2026",
    b"31-Feb-2026",
    b"CHARSET",
    b"UTF-8",
    b"NIL",
    b"&-",
    b"&Jjo",
    b"Entw&APw-rfe",
    b"%",
    b"{3+}\r\nabc",
    b"{0+}\r\n",
    b"MESSAGES",
    b'"05-Jun-2026 10:11:12 +0200"',
    b"\\",
    b"\x00",
    b"\xff",
]


async def test_random_commands_get_tagged_answers(tmp_path: Path):
    generator = random.Random(20260604)
    async with serve(tmp_path) as running:
        fill(running.store, 3)
        running.store.create_folder("agent@example.test", "Archive")
        client = await RawClient.connect(running.port)
        await client.login()
        for number in range(400):
            tag = b"Z%d" % number
            words = [generator.choice(COMMANDS)]
            words += [generator.choice(TOKENS) for _ in range(generator.randint(0, 5))]
            line = b" ".join(words)
            lines = await client.command(tag, line)
            answer = lines[-1]
            assert answer.split(b" ")[1] in (b"OK", b"NO", b"BAD"), (line, lines)
            assert b"SERVERBUG" not in answer, (line, lines)
            if number % 50 == 0:
                await client.command(b"S%d" % number, b"SELECT INBOX")
        await client.close()
