"""mbsync and fetchmail sync a fakemail mailbox completely, byte for byte."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from fakemail.mailstore import MailStore
from fakemail.transcript import Transcript
from tests.fakemail.imap_support import (
    PASSWORD,
    USER,
    Running,
    sample_message,
    serve,
)
from tests.support.programs import require_program

MULTIPART = (
    b"From: Customer <c@example.org>\r\n"
    b"Subject: =?utf-8?q?R=C3=BCckfrage?=\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Gr\xc3\xbc\xc3\x9fe aus M\xc3\xbcnchen\r\n"
    b"--b1\r\n"
    b"Content-Type: application/octet-stream; name=a.bin\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAwQFBgcICQ==\r\n"
    b"--b1--\r\n"
)


def _mailbox() -> tuple[MailStore, dict[str, list[bytes]]]:
    store = MailStore()
    expected: dict[str, list[bytes]] = {"INBOX": [], "Entwürfe": [], "Archive/2026": []}
    for name in ("Entwürfe", "Archive", "Archive/2026"):
        store.create_folder(USER, name)
    for number in range(1, 26):
        expected["INBOX"].append(sample_message(number, size=number * 700))
    expected["INBOX"].append(MULTIPART)
    expected["INBOX"].append(sample_message(99, size=1_000_000))
    expected["Entwürfe"] = [sample_message(n) for n in (201, 202)]
    expected["Archive/2026"] = [sample_message(n) for n in (301, 302, 303)]
    for folder, messages in expected.items():
        for raw in messages:
            store.deliver(USER, folder, raw)
    return store, expected


def _lf(raw: bytes) -> bytes:
    """Both clients store messages with LF line ends, as Unix mail files have."""
    return raw.replace(b"\r\n", b"\n")


def _maildir_messages(folder: Path) -> list[bytes]:
    files = [path for sub in ("new", "cur") for path in (folder / sub).glob("*")]
    # mbsync writes the far-side UID into each file name as ",U=<uid>".
    files.sort(key=lambda path: int(path.name.split(",U=")[1].split(":")[0]))
    # mbsync 1.4 inserts an X-TUID header line to track each message in
    # flight; that line is its own, everything else must match.
    return [
        re.sub(rb"(?m)^X-TUID: \S+\n", b"", path.read_bytes(), count=1)
        for path in files
    ]


async def _run(*command: str, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{command[0]} failed: {text}"
    return text


def _mbsync_config(running: Running, root: Path, mechanism: str) -> Path:
    tls_type = {"ssl": "IMAPS", "starttls": "STARTTLS", "none": "None"}[running.mode]
    config = root / "mbsyncrc"
    config.write_text(
        f"""IMAPAccount fake
Host 127.0.0.1
Port {running.port}
User {USER}
Pass {PASSWORD}
SSLType {tls_type}
CertificateFile {running.ca_path}
AuthMechs {mechanism}

IMAPStore remote
Account fake

MaildirStore local
Path {root}/mail/
Inbox {root}/mail/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Near
Sync Pull
SyncState *
"""
    )
    config.chmod(0o600)
    return config


@pytest.mark.parametrize(
    ("mode", "mechanism"),
    [("ssl", "PLAIN"), ("starttls", "LOGIN"), ("none", "LOGIN")],
)
async def test_mbsync_syncs_every_folder(tmp_path: Path, mode: str, mechanism: str):
    mbsync = require_program("mbsync", "isync")
    store, expected = _mailbox()
    async with serve(tmp_path, mode, store=store) as running:
        (tmp_path / "mail").mkdir()
        config = _mbsync_config(running, tmp_path, mechanism)
        await _run(mbsync, "-c", str(config), "-a", env={"HOME": str(tmp_path)})
        mail = tmp_path / "mail"
        for folder, messages in expected.items():
            # mbsync 1.4 names maildir folders by their modified UTF-7 name.
            folder = folder.replace("ü", "&APw-")
            assert _maildir_messages(mail / folder) == [_lf(m) for m in messages], (
                folder
            )

        # A second run fetches only what arrived in between.
        late = sample_message(400)
        store.deliver(USER, "INBOX", late)
        await _run(mbsync, "-c", str(config), "-a", env={"HOME": str(tmp_path)})
        inbox = _maildir_messages(mail / "INBOX")
        assert inbox == [_lf(m) for m in expected["INBOX"] + [late]]


async def _fetchmail(running: Running, root: Path, options: list[str]) -> list[bytes]:
    fetchmail = require_program("fetchmail")
    out = root / "out"
    out.mkdir()
    deliver = root / "deliver.sh"
    # Each message goes to its own numbered file, in the order fetched.
    deliver.write_text(
        '#!/bin/sh\nn=$(ls "$1" | wc -l)\ncat > "$1/$(printf %05d $n).eml"\n'
    )
    deliver.chmod(0o700)
    rc = root / "fetchmailrc"
    rc.write_text(
        f'poll localhost proto IMAP port {running.port} user "{USER}" '
        f'password "{PASSWORD}"\n'
    )
    rc.chmod(0o600)
    await _run(
        fetchmail,
        "-f",
        str(rc),
        "--nodetach",
        "--all",
        "--keep",
        "--invisible",
        "--pidfile",
        str(root / "fetchmail.pid"),
        "--mda",
        f"{deliver} {out}",
        *options,
        env={"HOME": str(root), "FETCHMAILHOME": str(root)},
    )
    return [path.read_bytes() for path in sorted(out.iterdir())]


@pytest.mark.parametrize("mode", ["ssl", "starttls", "none"])
async def test_fetchmail_fetches_inbox(tmp_path: Path, mode: str):
    require_program("fetchmail")
    store, expected = _mailbox()
    transcript_path = tmp_path / "transcript.log"
    transcript = Transcript(transcript_path)
    async with serve(tmp_path, mode, store=store, transcript=transcript) as running:
        options = {
            "ssl": ["--ssl", "--sslcertck", "--sslcertfile", str(running.ca_path)],
            "starttls": [
                "--sslproto",
                "auto",
                "--sslcertck",
                "--sslcertfile",
                str(running.ca_path),
            ],
            "none": ["--sslproto", ""],
        }[mode]
        fetched = await _fetchmail(running, tmp_path, options)
    transcript.close()
    assert fetched == [_lf(m) for m in expected["INBOX"]]
    commands = transcript_path.read_text()
    assert (" STARTTLS" in commands) == (mode == "starttls")
    assert PASSWORD not in commands
