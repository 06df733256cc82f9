"""FakeMail: every listener, the timeline and the responders of one scenario."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fakemail.accounts import Account, Accounts, TokenStatus
from fakemail.clock import Clock, RealClock
from fakemail.faults import FaultPlan
from fakemail.mailstore import MailStore
from fakemail.outbox import Outbox, OutboxRecord
from fakemail.responders import Responders
from fakemail.scenario import ListenerSpec, Scenario, load_scenario, message_date
from fakemail.smtp import SMTPServer
from fakemail.timeline import MessageIndex, OperatorReplyRequested, Timeline
from fakemail.tls import TLSMaterials
from fakemail.transcript import Transcript

log = logging.getLogger(__name__)

STATE_VARIABLE = "FAKEMAIL_STATE"


class _Listener(Protocol):
    async def start(self, host: str = ..., port: int = ...) -> int: ...
    async def stop(self) -> None: ...
    def drop_connections(self) -> None: ...


@dataclass(frozen=True)
class Endpoint:
    """Address and credentials one channel of the scenario uses.

    ``secret`` is the account password, or the access token when ``auth``
    is ``oauth``.
    """

    host: str
    port: int
    protocol: str
    encryption: str
    username: str
    auth: str
    secret: str | None
    ca_path: Path


def default_state_dir() -> Path:
    """Return ``$FAKEMAIL_STATE``, or a new private temporary folder."""
    configured = os.environ.get(STATE_VARIABLE)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="fakemail-"))


class FakeMail:
    """An async context manager that serves ``scenario`` on loopback.

    ``imap_port`` and ``smtp_port`` are the ports of the first IMAP and the
    first SMTP listener (0: a free port); other listeners get free ports.
    ``clock`` overrides ``speed``: pass a SteppedClock to drive the timeline
    from a test. Everything written goes under ``state_dir``: ``tls/ca.pem``,
    ``outbox/`` and ``transcript.log``.
    """

    def __init__(
        self,
        scenario: Scenario | Path | str,
        *,
        host: str = "127.0.0.1",
        imap_port: int = 0,
        smtp_port: int = 0,
        speed: float = 1.0,
        clock: Clock | None = None,
        state_dir: Path | None = None,
        tls: TLSMaterials | None = None,
    ) -> None:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.scenario = scenario
        self.host = host
        self.clock: Clock = clock or RealClock(speed)
        self._owns_clock = clock is None
        self.state_dir = state_dir or default_state_dir()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.tls = tls or TLSMaterials(self.state_dir / "tls")
        self.transcript_path = self.state_dir / "transcript.log"
        self.transcript = Transcript(self.transcript_path)
        self.outbox = Outbox(self.state_dir / "outbox")
        self.accounts = _accounts(scenario)
        self.operator_replies: list[OperatorReplyRequested] = []
        self.ports: dict[str, int] = {}
        self._wanted_ports = {"imap": imap_port, "smtp": smtp_port}
        self._servers: dict[str, _Listener] = {}
        self._reply_listeners: list[Callable[[OperatorReplyRequested], None]] = []
        self._reply_queue: asyncio.Queue[OperatorReplyRequested] = asyncio.Queue()
        self._build_state()

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    def _build_state(self) -> None:
        self.mailstore = MailStore(now=self._now_date)
        self.messages = MessageIndex(self.mailstore)
        self.faults = {spec.name: FaultPlan() for spec in self.scenario.listeners}
        self.responders = Responders(
            self.scenario.responders, self.outbox, self.clock, self._deliver_answer
        )
        self.outbox.unsubscribe(self._deliver_local)
        self.outbox.subscribe(self._deliver_local)
        self.timeline = Timeline(
            events=self.scenario.timeline,
            clock=self.clock,
            messages=self.messages,
            faults=self.faults,
            drop_connections=self.drop_connections,
            responders=self.responders,
            operator_replies=self._publish_reply,
            default_fault_listeners=tuple(
                spec.name for spec in self.scenario.listeners if spec.protocol == "imap"
            ),
        )
        self._load_folders()

    async def __aenter__(self) -> FakeMail:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
        self.close()

    async def start(self) -> None:
        """Start every listener, then the timeline.

        Raises OSError when a port cannot be bound; the listeners already
        started are stopped again first.
        """
        if self._owns_clock and not self.ports:
            # Scenario second 0 is when serving starts, not when this
            # object was built.
            self.clock.reset()
        try:
            await self._start_listeners()
        except OSError as error:
            log.error(
                "fakemail could not start scenario %s: %s", self.scenario.name, error
            )
            for server in self._servers.values():
                await server.stop()
            self._servers.clear()
            raise
        self.timeline.start()
        log.info("fakemail serving scenario %s: %s", self.scenario.name, self.ports)

    async def _start_listeners(self) -> None:
        first_of = {"imap": True, "smtp": True}
        for spec in self.scenario.listeners:
            port = self.ports.get(spec.name, 0)
            if port == 0 and first_of[spec.protocol]:
                port = self._wanted_ports[spec.protocol]
            first_of[spec.protocol] = False
            server = self._make_listener(spec)
            self.ports[spec.name] = await server.start(self.host, port)
            self._servers[spec.name] = server

    async def stop(self) -> None:
        """Stop the timeline, pending answers and every listener."""
        await self.timeline.stop()
        await self.responders.stop()
        for server in self._servers.values():
            await server.stop()
        self._servers.clear()
        log.info("fakemail stopped scenario %s", self.scenario.name)

    async def reset(self) -> None:
        """Restart from the scenario's first second on the same ports.

        Connections are dropped, the mailboxes, UIDs, outbox, faults and
        recorded events go back to the state the scenario file describes.
        """
        await self.stop()
        self.outbox.clear()
        self.operator_replies.clear()
        self._reply_queue = asyncio.Queue()
        self.clock.reset()
        self._build_state()
        await self.start()

    def close(self) -> None:
        """Close the transcript file; call after ``stop``."""
        self.transcript.close()

    def drop_connections(self, listener: str | None = None) -> None:
        """Abort the open connections of ``listener``, or of every listener."""
        for name, server in self._servers.items():
            if listener is None or name == listener:
                server.drop_connections()

    def deliver_outgoing(
        self,
        record_id: str,
        account: str,
        folder: str = "INBOX",
        name: str | None = None,
    ) -> int:
        """Deliver the accepted SMTP message ``record_id`` into a mailbox.

        The message is filed under ``name`` (default ``outbox-<id>``) so
        timeline steps and expectations can refer to it; returns its UID.
        """
        record = self.outbox.get(record_id)
        return self.messages.deliver(
            name or f"outbox-{record.id}", account, folder, record.raw
        )

    def endpoint(self, channel: str) -> Endpoint:
        """Return the address and credentials a channel of the scenario uses."""
        spec = self.scenario.channel(channel)
        listener = self.scenario.listener(spec.listener)
        account = self.scenario.account(spec.account)
        secret = spec.token if spec.auth == "oauth" else account.password
        if spec.auth == "password" and spec.password is not None:
            secret = spec.password
        return Endpoint(
            host=self.host,
            port=self.ports[listener.name],
            protocol=listener.protocol,
            encryption=listener.encryption,
            username=account.username,
            auth=spec.auth,
            secret=secret,
            ca_path=self.ca_path,
        )

    def on_operator_reply(
        self, callback: Callable[[OperatorReplyRequested], None]
    ) -> None:
        """Call ``callback`` for every operator-reply step from now on."""
        self._reply_listeners.append(callback)

    async def next_operator_reply(
        self, timeout: float = 30.0
    ) -> OperatorReplyRequested:
        """Wait for the next operator-reply step; raise TimeoutError on ``timeout``."""
        async with asyncio.timeout(timeout):
            return await self._reply_queue.get()

    def info(self) -> dict[str, Any]:
        """Return ports, accounts and paths as JSON-ready data."""
        return {
            "scenario": self.scenario.name,
            "host": self.host,
            "listeners": [
                {
                    "name": spec.name,
                    "protocol": spec.protocol,
                    "encryption": spec.encryption,
                    "certificate": spec.certificate.value,
                    "port": self.ports.get(spec.name),
                }
                for spec in self.scenario.listeners
            ],
            "accounts": [
                {
                    "username": account.username,
                    "password": account.password,
                    "tokens": dict(account.tokens),
                }
                for account in self.scenario.accounts
            ],
            "ca_path": str(self.ca_path),
            "state_dir": str(self.state_dir),
            "outbox_dir": str(self.outbox.directory),
            "transcript": str(self.transcript_path),
        }

    def _make_listener(self, spec: ListenerSpec) -> _Listener:
        context = None
        if spec.encryption != "none":
            context = self.tls.server_context(spec.certificate)
        if spec.protocol == "smtp":
            return SMTPServer(
                self.accounts,
                self.outbox,
                name=spec.name,
                encryption=spec.encryption,
                tls_context=context,
                require_starttls=spec.require_starttls,
                auth_required=spec.auth_required,
                disabled_capabilities=spec.disabled_capabilities,
                transcript=self.transcript,
                clock=self.clock,
                faults=self.faults[spec.name],
            )

        from fakemail.imap.server import IMAPServer

        return IMAPServer(
            self.mailstore,
            self.accounts,
            implicit_tls=context if spec.encryption == "ssl" else None,
            starttls=context if spec.encryption == "starttls" else None,
            disabled_capabilities=spec.disabled_capabilities,
            login_disabled_before_tls=spec.login_disabled_before_tls,
            faults=self.faults[spec.name],
            transcript=self.transcript,
            sleep=self.clock.sleep,
        )

    def _load_folders(self) -> None:
        if self.scenario.redate:
            self._prepare_redate()
        for account in self.scenario.accounts:
            self.mailstore.create_folder(account.username, "INBOX", exist_ok=True)
        for folder in self.scenario.folders:
            self.mailstore.create_folder(folder.account, folder.name, exist_ok=True)
            for message in folder.messages:
                self.messages.deliver(
                    message.name,
                    folder.account,
                    folder.name,
                    message.raw(),
                    message.flags,
                    message.internaldate,
                    preloaded=True,
                )
            for generator in folder.generate:
                for generated in generator.messages():
                    self.messages.deliver(
                        generated.name,
                        folder.account,
                        folder.name,
                        generated.raw,
                        (),
                        generated.internaldate,
                        preloaded=True,
                    )

    def _prepare_redate(self) -> None:
        """Shift preloaded mail so its newest message is dated at the start."""
        dates = [
            date
            for folder in self.scenario.folders
            for message in folder.messages
            if (date := message_date(message.raw())) is not None
        ]
        now = self._now_date()
        self.messages.redate_clock = self._now_date
        self.messages.redate_shift = (
            now - max(dates) if dates else datetime.timedelta(0)
        )

    def _deliver_local(self, record: OutboxRecord) -> None:
        # Mail between accounts of the scenario lands in the recipient's
        # INBOX when the listener that accepted it has deliver_local set.
        if not self.scenario.listener(record.listener).deliver_local:
            return
        for recipient in record.rcpt_tos:
            account = self.accounts.get(recipient)
            if account is not None:
                name = f"outbox-{record.id}-{account.username}"
                self.messages.deliver(name, account.username, "INBOX", record.raw)

    def _deliver_answer(self, name: str, account: str, folder: str, raw: bytes) -> None:
        self.messages.deliver(name, account, folder, raw, (), self._now_date())

    def _publish_reply(self, request: OperatorReplyRequested) -> None:
        self.operator_replies.append(request)
        self._reply_queue.put_nowait(request)
        for callback in list(self._reply_listeners):
            callback(request)

    def _now_date(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock.wall_time(), datetime.UTC)


def _accounts(scenario: Scenario) -> Accounts:
    return Accounts(
        Account(
            spec.username,
            spec.password,
            {token: TokenStatus(state) for token, state in spec.tokens.items()},
        )
        for spec in scenario.accounts
    )
