"""One command script against fakemail and Dovecot: normalized responses match."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

from tests.fakemail.imap_support import PASSWORD, USER, serve

SIMPLE = (
    b"From: Ann Example <ann@example.org>\r\n"
    b"To: Support <support@example.test>, bob@example.net\r\n"
    b'Cc: "Carol, Q." <carol@example.org>\r\n'
    b"Reply-To: replies@example.org\r\n"
    b"Subject: Printer on fire\r\n"
    b"Date: Tue, 02 Jun 2026 08:30:00 +0200\r\n"
    b"Message-ID: <printer-1@example.org>\r\n"
    b"\r\n"
    b"The printer is on fire.\r\n"
    b"Please advise.\r\n"
)
MULTIPART = (
    b"From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.de>\r\n"
    b"To: support@example.test\r\n"
    b"Subject: =?utf-8?q?R=C3=BCckfrage_zur_Rechnung?=\r\n"
    b"Date: Wed, 03 Jun 2026 09:00:00 +0000\r\n"
    b"Message-ID: <invoice-2@example.de>\r\n"
    b"In-Reply-To: <printer-1@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n'
    b"\r\n"
    b"This is a multi-part message in MIME format.\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="inner"\r\n'
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Gr=C3=BC=C3=9Fe, die Rechnung fehlt.\r\n"
    b"--inner\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>Gr\xc3\xbc\xc3\x9fe, die Rechnung fehlt.</p>\r\n"
    b"--inner--\r\n"
    b"\r\n"
    b"--outer\r\n"
    b'Content-Type: application/pdf; name="rechnung.pdf"\r\n'
    b'Content-Disposition: attachment; filename="rechnung.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"Content-ID: <pdf-1@example.de>\r\n"
    b"\r\n"
    b"JVBERi0xLjQKJcfsj6IKCg==\r\n"
    b"--outer\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"From: Old Sender <old@example.org>\r\n"
    b"Subject: Forwarded\r\n"
    b"Date: Mon, 01 Jun 2026 07:00:00 +0000\r\n"
    b"\r\n"
    b"Forwarded body.\r\n"
    b"--outer--\r\n"
)
NO_HEADERS_OF_NOTE = b"From: nobody@example.org\r\nSubject: Short\r\n\r\nx"
MESSAGES = [
    (SIMPLE, b"(\\Seen)", b'"02-Jun-2026 08:31:00 +0200"'),
    (MULTIPART, b"(\\Flagged $Invoice)", b'"03-Jun-2026 09:01:00 +0000"'),
    (NO_HEADERS_OF_NOTE, b"()", b'"04-Jun-2026 12:00:00 -0500"'),
]

SCRIPT: list[bytes] = [
    b"NOOP",
    b"CREATE Archive",
    b"STATUS INBOX (MESSAGES UNSEEN UIDNEXT)",
    b"SELECT INBOX",
    b"FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)",
    b"FETCH 1:* ENVELOPE",
    b"FETCH 1:* BODYSTRUCTURE",
    b"FETCH 1:* BODY",
    b"FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.1] BODY.PEEK[1.2.MIME] BODY.PEEK[2])",
    b"FETCH 2 (BODY.PEEK[3] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT] BODY.PEEK[2.MIME])",
    b"FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])",
    b"FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM TO CC)])",
    b"FETCH 1 (BODY.PEEK[TEXT]<5.10> BODY.PEEK[]<0.4> BODY.PEEK[TEXT]<1000.5>)",
    b"FETCH 3 (RFC822.HEADER RFC822.TEXT)",
    b"FETCH 3 FAST",
    b"UID FETCH 2:* (FLAGS)",
    b"UID FETCH 3:2 (UID)",
    b"FETCH 3 (BODY[TEXT])",
    b"FETCH 1:2 (BODY[HEADER.FIELDS (SUBJECT)])",
    b"SEARCH ALL",
    b"SEARCH SEEN",
    b"SEARCH UNSEEN",
    b"SEARCH FLAGGED NOT SEEN",
    b"SEARCH OR SEEN FLAGGED",
    b"SEARCH KEYWORD $Invoice",
    b"SEARCH FROM ann",
    b"SEARCH SUBJECT fire",
    b"SEARCH BODY advise",
    b"SEARCH TEXT printer",
    b'SEARCH HEADER Message-ID "printer-1"',
    b"SEARCH LARGER 1000",
    b"SEARCH SMALLER 100",
    b"SEARCH SINCE 3-Jun-2026",
    b"SEARCH BEFORE 3-Jun-2026",
    b"SEARCH ON 4-Jun-2026",
    b"SEARCH SENTSINCE 3-Jun-2026",
    b"SEARCH SENTBEFORE 3-Jun-2026",
    b"SEARCH 2:*",
    b"SEARCH UID 1,3",
    b"SEARCH (OR FROM ann FROM nobody) NOT SUBJECT short",
    b"UID SEARCH NOT DELETED",
    b"STORE 1 +FLAGS (\\Answered)",
    b"STORE 1:2 -FLAGS.SILENT (\\Flagged)",
    b"UID STORE 3 FLAGS (\\Deleted)",
    b"FETCH 1:* FLAGS",
    b"COPY 1:2 Archive",
    b"STATUS Archive (MESSAGES UIDNEXT)",
    b"EXPUNGE",
    b"SEARCH ALL",
    b"FETCH 5 FLAGS",
    b"FETCH 1 (BODY[99])",
    b"SEARCH BOGUS",
    b"SELECT Nonexistent",
    b"EXAMINE Archive",
    b"FETCH 1:* (UID FLAGS)",
    b"CLOSE",
    b"DELETE Archive",
    b"LOGOUT",
]


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    """Read one response line, literals included."""
    line = await asyncio.wait_for(reader.readline(), 10)
    while match := re.search(rb"\{(\d+)\}\r\n$", line):
        line += await reader.readexactly(int(match.group(1)))
        line += await asyncio.wait_for(reader.readline(), 10)
    return line


async def run_script(port: int, user: str, password: str) -> list[bytes]:
    """Append MESSAGES, run SCRIPT and return every response line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    responses: list[bytes] = [await _read_response(reader)]
    commands = [b'LOGIN "%s" "%s"' % (user.encode(), password.encode())]
    for raw, flags, date in MESSAGES:
        commands.append(
            b"APPEND INBOX %s %s {%d+}\r\n%s" % (flags, date, len(raw), raw)
        )
    commands += SCRIPT
    for number, command in enumerate(commands, start=1):
        tag = b"T%d" % number
        writer.write(tag + b" " + command + b"\r\n")
        await writer.drain()
        while True:
            line = await _read_response(reader)
            if not line:
                raise ConnectionError(
                    f"server closed the connection during {command!r}"
                )
            responses.append(line)
            if line.startswith(tag + b" "):
                break
    writer.close()
    return responses


_CODE_WITH_VALUE = re.compile(rb"\[(UIDVALIDITY|APPENDUID|COPYUID) (\d+)")


_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _utc_internaldate(match: re.Match[bytes]) -> bytes:
    """Dovecot's maildir keeps no time zone, so compare INTERNALDATE in UTC."""
    moment = datetime.strptime(match.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    return (
        b'INTERNALDATE "%s"'
        % moment.astimezone(UTC).strftime("%d-%b-%Y %H:%M:%S +0000").encode()
    )


def normalize(responses: list[bytes]) -> list[bytes]:
    """Drop what legitimately differs: greeting, capability lists, human text."""
    normalized = []
    for line in responses[1:]:
        line = re.sub(rb"\[CAPABILITY [^\]]*\] ?", b"", line)
        if line.startswith(b"* CAPABILITY "):
            continue
        line = _CODE_WITH_VALUE.sub(rb"[\1 <uidvalidity>", line)
        line = _INTERNALDATE.sub(_utc_internaldate, line)
        # Status responses: keep status and response code, drop the text.
        match = re.match(rb"^(\S+ (?:OK|NO|BAD|BYE))( \[[^\]]*\])?.*\r\n$", line, re.S)
        if match and b"FETCH" not in line[:20]:
            line = match.group(1) + (match.group(2) or b"") + b"\r\n"
        normalized.append(line)
    return normalized


async def test_same_answers_as_dovecot(dovecot, tmp_path: Path):
    expected = normalize(
        await run_script(dovecot.imap_port, dovecot.username, dovecot.password)
    )
    async with serve(tmp_path) as running:
        actual = normalize(await run_script(running.port, USER, PASSWORD))
    assert actual == expected
