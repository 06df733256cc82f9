"""STARTTLS refuses plaintext a server (or an attacker) sends after its OK."""

from __future__ import annotations

import asyncio

import pytest

from sagicc_tui.engine.errors import StartTlsFailed
from sagicc_tui.engine.imap import ImapClient, ImapEndpoint


async def serve_injecting(
    extra: bytes,
) -> tuple[asyncio.AbstractServer, int, list[bytes]]:
    """A plaintext IMAP server whose STARTTLS OK is followed by ``extra``."""
    received: list[bytes] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        writer.write(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
        await writer.drain()
        while line := await reader.readline():
            received.append(line)
            tag, _, command = line.decode().strip().partition(" ")
            if command.upper() == "CAPABILITY":
                writer.write(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n")
                writer.write(f"{tag} OK done\r\n".encode())
            elif command.upper() == "STARTTLS":
                writer.write(f"{tag} OK begin TLS\r\n".encode() + extra)
            else:
                writer.write(f"{tag} BAD unexpected\r\n".encode())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], received


@pytest.mark.parametrize(
    "extra",
    [b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", b"* OK half a li"],
    ids=["whole-line", "partial-line"],
)
async def test_data_after_starttls_ok_rejected(extra: bytes) -> None:
    server, port, received = await serve_injecting(extra)
    client = ImapClient(ImapEndpoint("127.0.0.1", port, "starttls", timeout=5.0))
    try:
        with pytest.raises(StartTlsFailed, match="unencrypted data after"):
            await client.connect()
    finally:
        server.close()
        await server.wait_closed()

    commands = [line.split(b" ", 1)[1].strip().upper() for line in received]
    assert commands[-1] == b"STARTTLS"
    assert not any(c.startswith((b"LOGIN", b"AUTHENTICATE")) for c in commands)
