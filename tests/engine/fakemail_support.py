"""fakemail servers for engine tests: IMAP and SMTP on 127.0.0.1 in any mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from fakemail.accounts import Account, Accounts, TokenStatus
from fakemail.faults import FaultPlan
from fakemail.imap.server import IMAPServer
from fakemail.mailstore import MailStore
from fakemail.outbox import Outbox
from fakemail.smtp import SMTPServer
from fakemail.tls import TLSMaterials
from fakemail.transcript import Transcript
from sagicc_tui.settings.models import (
    AuthMethod,
    Encryption,
    ImportExisting,
    IncomingChannel,
    OutgoingChannel,
)

USER = "agent@example.test"
PASSWORD = "fakemail-engine-password"
VALID_TOKEN = "ya29.engine-valid"
EXPIRED_TOKEN = "ya29.engine-expired"


def make_accounts() -> Accounts:
    tokens = {VALID_TOKEN: TokenStatus.VALID, EXPIRED_TOKEN: TokenStatus.EXPIRED}
    return Accounts([Account(USER, PASSWORD, tokens)])


@dataclass
class FakeImap:
    """A running fakemail IMAP server and what a channel needs to reach it."""

    server: IMAPServer
    store: MailStore
    faults: FaultPlan
    port: int
    mode: str
    ca_path: Path
    transcript_path: Path

    def client_lines(self) -> list[str]:
        """Every command line clients sent, credentials redacted by fakemail."""
        lines = self.transcript_path.read_text(encoding="utf-8").splitlines()
        return [line.split(" C ", 1)[1] for line in lines if " C " in line]

    def commands(self, name: str) -> int:
        """Count client lines of command ``name`` (tagged, or ``DONE``)."""
        count = 0
        for line in self.client_lines():
            words = line.upper().split(" ")
            if words[0] == name.upper() or words[1:2] == [name.upper()]:
                count += 1
        return count

    def channel(self, name: str = "fake", **changes: object) -> IncomingChannel:
        channel = IncomingChannel(
            name=name,
            host="127.0.0.1",
            port=self.port,
            encryption=Encryption(self.mode),
            ca_file=str(self.ca_path),
            username=USER,
            import_existing=ImportExisting.all(),
        )
        return replace(channel, **changes)

    def oauth_channel(self, name: str = "fake-oauth") -> IncomingChannel:
        return self.channel(name, auth=AuthMethod.OAUTH)


@asynccontextmanager
async def fake_imap(
    tmp_path: Path,
    mode: str = "ssl",
    *,
    variant: str = "valid",
    disabled: tuple[str, ...] = (),
    login_disabled_before_tls: bool = False,
) -> AsyncIterator[FakeImap]:
    """Run fakemail's IMAP server in ``mode`` with a certificate ``variant``."""
    tls = TLSMaterials(tmp_path / f"tls-{mode}-{variant}")
    context = tls.server_context(variant)
    store = MailStore()
    faults = FaultPlan()
    transcript_path = tmp_path / f"imap-{mode}-{variant}.log"
    transcript = Transcript(transcript_path)
    server = IMAPServer(
        store,
        make_accounts(),
        implicit_tls=context if mode == "ssl" else None,
        starttls=context if mode == "starttls" else None,
        disabled_capabilities=disabled,
        login_disabled_before_tls=login_disabled_before_tls,
        faults=faults,
        transcript=transcript,
    )
    port = await server.start()
    try:
        yield FakeImap(server, store, faults, port, mode, tls.ca_path, transcript_path)
    finally:
        await server.stop()
        transcript.close()


@dataclass
class FakeSmtp:
    """A running fakemail SMTP server."""

    server: SMTPServer
    outbox: Outbox
    port: int
    mode: str
    ca_path: Path

    def channel(self, name: str = "fake-smtp", **changes: object) -> OutgoingChannel:
        channel = OutgoingChannel(
            name=name,
            host="127.0.0.1",
            port=self.port,
            encryption=Encryption(self.mode),
            ca_file=str(self.ca_path),
            username=USER,
            sender_address=USER,
        )
        return replace(channel, **changes)


@asynccontextmanager
async def fake_smtp(
    tmp_path: Path,
    mode: str = "ssl",
    *,
    variant: str = "valid",
    disabled: tuple[str, ...] = (),
) -> AsyncIterator[FakeSmtp]:
    """Run fakemail's SMTP server in ``mode`` with a certificate ``variant``."""
    tls = TLSMaterials(tmp_path / f"smtp-tls-{mode}-{variant}")
    outbox = Outbox()
    server = SMTPServer(
        make_accounts(),
        outbox,
        encryption=mode,
        tls_context=None if mode == "none" else tls.server_context(variant),
        auth_required=True,
        disabled_capabilities=disabled,
    )
    port = await server.start()
    try:
        yield FakeSmtp(server, outbox, port, mode, tls.ca_path)
    finally:
        await server.stop()
