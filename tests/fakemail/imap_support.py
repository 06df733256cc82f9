"""Shared setup for the IMAP server tests: accounts, sample mail, a running server."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import trustme

from fakemail.accounts import Account, Accounts, TokenStatus
from fakemail.imap.server import IMAPServer
from fakemail.mailstore import MailStore

USER = "agent@example.test"
PASSWORD = "s3cret-imap-password"
VALID_TOKEN = "ya29.valid-token"
EXPIRED_TOKEN = "ya29.expired-token"
REVOKED_TOKEN = "ya29.revoked-token"
MODES = ("ssl", "starttls", "none")
XOAUTH2_ERROR_JSON = (
    b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'
)


def make_accounts() -> Accounts:
    tokens = {
        VALID_TOKEN: TokenStatus.VALID,
        EXPIRED_TOKEN: TokenStatus.EXPIRED,
        REVOKED_TOKEN: TokenStatus.REVOKED,
    }
    return Accounts([Account(USER, PASSWORD, tokens)])


def sample_message(number: int, *, size: int = 0) -> bytes:
    """Return a small, distinct RFC 5322 message; ``size`` pads the body."""
    body = f"Hello number {number}.\r\n".encode()
    if size > len(body):
        line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
        body += line * ((size - len(body)) // len(line))
    return (
        f"From: Customer {number} <customer{number}@example.org>\r\n"
        f"To: Support <{USER}>\r\n"
        f"Subject: Question {number}\r\n"
        f"Date: Mon, 0{1 + number % 9} Jun 2026 10:00:00 +0000\r\n"
        f"Message-ID: <m{number}@example.org>\r\n"
        "\r\n"
    ).encode() + body


def fill(store: MailStore, count: int, folder: str = "INBOX") -> list[bytes]:
    """Deliver ``count`` sample messages and return them in UID order."""
    messages = [sample_message(number) for number in range(1, count + 1)]
    start = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    for offset, raw in enumerate(messages):
        store.deliver(USER, folder, raw, internaldate=start + timedelta(hours=offset))
    return messages


def xoauth2(user: str, token: str) -> bytes:
    """Return the raw (not base64) XOAUTH2 initial response."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


@dataclass
class Running:
    """A started server with what clients need to reach it."""

    server: IMAPServer
    store: MailStore
    port: int
    mode: str
    ca_path: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))


def make_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """Return a server context for 127.0.0.1 and the CA file that validates it.

    The certificate also carries 127.0.0.1 as its common name: mbsync 1.4.4
    and fetchmail 6.4 check an IP address host against the common name only,
    and reject a certificate without one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    certificate = authority.issue_cert(
        "127.0.0.1", "localhost", common_name="127.0.0.1"
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    ca_path = directory / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    return context, ca_path


@asynccontextmanager
async def serve(
    tmp_path: Path,
    mode: str = "none",
    *,
    store: MailStore | None = None,
    **options: Any,
) -> AsyncIterator[Running]:
    """Run an IMAPServer on 127.0.0.1 in ``mode`` ("ssl", "starttls", "none")."""
    context, ca_path = make_tls(tmp_path / "tls")
    store = store or MailStore()
    server = IMAPServer(
        store,
        make_accounts(),
        implicit_tls=context if mode == "ssl" else None,
        starttls=context if mode == "starttls" else None,
        **options,
    )
    port = await server.start()
    try:
        yield Running(server, store, port, mode, ca_path)
    finally:
        await server.stop()


class RawClient:
    """A line-level IMAP client for protocol edge cases that libraries hide."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        greeting = await client.line()
        assert greeting.startswith(b"* OK"), greeting
        return client

    async def line(self) -> bytes:
        return await asyncio.wait_for(self.reader.readline(), 10)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def command(self, tag: bytes, text: bytes) -> list[bytes]:
        """Send ``tag text`` and return every line up to the tagged one."""
        await self.send(tag + b" " + text + b"\r\n")
        return await self.until(tag)

    async def until(self, tag: bytes) -> list[bytes]:
        lines = []
        while True:
            line = await self.line()
            if not line:
                raise ConnectionError(f"connection closed before {tag!r}: {lines}")
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    async def login(self) -> None:
        lines = await self.command(b"L", f'LOGIN {USER} "{PASSWORD}"'.encode())
        assert lines[-1].startswith(b"L OK"), lines

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass
