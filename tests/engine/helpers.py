"""Shared helpers for engine tests: messages, channels, a stdlib IMAP writer."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import PASSWORD, Config, FileSecretStore, secret_key
from sagicc_tui.settings.models import Encryption, ImportExisting, IncomingChannel
from sagicc_tui.store import TicketStore
from tests.support.dovecot import Dovecot


def make_message(
    number: int,
    *,
    subject: str | None = None,
    sender: str = "customer@example.test",
    body: str = "Hello",
    message_id: str | None = None,
) -> bytes:
    """Return a small RFC 5322 message with a unique Message-ID."""
    message_id = message_id or f"msg-{number}@example.test"
    subject = subject or f"Question {number}"
    return (
        f"From: Customer {number} <{sender}>\r\n"
        f"To: agent@example.test\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\n"
        f"Date: Mon, 05 Jan 2026 09:00:00 +0000\r\n"
        f"\r\n"
        f"{body} {number}\r\n"
    ).encode()


def dovecot_channel(
    dovecot: Dovecot, folder: str, **changes: object
) -> IncomingChannel:
    """An incoming channel on the Dovecot fixture's implicit-TLS port."""
    channel = IncomingChannel(
        name=f"dc-{folder}",
        host="127.0.0.1",
        port=dovecot.imaps_port,
        encryption=Encryption.SSL,
        username=dovecot.username,
        folder=folder,
        import_existing=ImportExisting.all(),
        poll_interval=60,
    )
    return replace(channel, **changes)


def open_store_and_secrets(
    channels: list[IncomingChannel], password: str
) -> tuple[Config, TicketStore, FileSecretStore]:
    """Open the test's store and file secret store under SAGICC_HOME."""
    paths = resolve_paths().ensure()
    secrets = FileSecretStore(paths.secrets_dir)
    for channel in channels:
        secrets.set(secret_key(channel.name, PASSWORD), password)
    store = TicketStore.open(paths=paths)
    return Config(incoming=tuple(channels)), store, secrets


class Writer:
    """A second client (Python's imaplib) that changes the mailbox."""

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot

    def _run(self, action: Callable[[imaplib.IMAP4_SSL], object]) -> object:
        context = ssl.create_default_context(cafile=str(self.dovecot.ca_file))
        with imaplib.IMAP4_SSL(
            "127.0.0.1", self.dovecot.imaps_port, ssl_context=context
        ) as connection:
            connection.login(self.dovecot.username, self.dovecot.password)
            return action(connection)

    async def create(self, folder: str) -> None:
        await asyncio.to_thread(self._run, lambda c: c.create(folder))

    async def append(self, folder: str, *messages: bytes) -> None:
        def append_all(connection: imaplib.IMAP4_SSL) -> None:
            for message in messages:
                status, data = connection.append(folder, None, None, message)
                assert status == "OK", data

        await asyncio.to_thread(self._run, append_all)

    async def search(self, folder: str, *criteria: str) -> list[int]:
        def search(connection: imaplib.IMAP4_SSL) -> list[int]:
            connection.select(folder, readonly=True)
            status, data = connection.uid("SEARCH", *criteria)
            assert status == "OK", data
            return [int(uid) for uid in data[0].split()]

        return await asyncio.to_thread(self._run, search)  # type: ignore[return-value]


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until true; fail after a generous 30 s bound.

    The bound only keeps a broken test from hanging; it is no speed check.
    """
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def home() -> Path:
    return resolve_paths().data_dir
