"""fakemail's SMTP listener on aiosmtpd: implicit TLS, STARTTLS or none.

Two aiosmtpd traps shape this module. Implicit TLS is the ``ssl`` argument
of the listening server, while ``SMTP(tls_context=...)`` means STARTTLS.
And aiosmtpd cannot tell that an implicit-TLS transport is already
encrypted, so with its default ``auth_require_tls=True`` every AUTH would
get ``538 Encryption required``: the implicit mode turns that check off and
the session records the TLS object itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import itertools
import json
import logging
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from fakemail.accounts import Accounts, TokenStatus
from fakemail.clock import Clock, RealClock
from fakemail.faults import FaultAction, FaultPlan
from fakemail.outbox import Outbox
from fakemail.transcript import Transcript

log = logging.getLogger(__name__)

ENCRYPTIONS = ("ssl", "starttls", "none")

# Gmail's answer to a bad or expired XOAUTH2 token: a base64 JSON challenge,
# then 535 once the client sends its empty response.
XOAUTH2_ERROR = {
    "status": "400",
    "schemes": "Bearer",
    "scope": "https://mail.google.com/",
}
XOAUTH2_FAILED = "535 5.7.8 Username and Password not accepted"

# SMTP commands a scenario fault can target, and the replies that stand
# for the IMAP fault actions: NO is a temporary failure, BAD a permanent
# one, BYE the 421 a server sends before it closes the connection.
FAULT_COMMANDS = ("EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET")
_FAULT_REPLIES = {
    FaultAction.NO: "451 4.3.0",
    FaultAction.BAD: "554 5.3.0",
    FaultAction.BYE: "421 4.3.2",
}


class SMTPServer:
    """One SMTP listener: a mode, the accounts it checks and the outbox it fills.

    ``encryption`` is ``ssl`` (implicit TLS, needs ``tls_context``),
    ``starttls`` (needs ``tls_context``; ``require_starttls`` rejects mail
    commands before the upgrade) or ``none``. In ``starttls`` mode AUTH is
    offered only after the upgrade, as aiosmtpd's default does.
    ``disabled_capabilities`` may name ``STARTTLS`` (not offered, so a client
    that insists on it must stop), ``AUTH`` (no mechanism offered) or a
    single mechanism as ``AUTH=XOAUTH2``. ``faults`` contains rules keyed by
    the commands in ``FAULT_COMMANDS``; CUT_LITERAL acts as DROP here.
    """

    def __init__(
        self,
        accounts: Accounts,
        outbox: Outbox,
        *,
        name: str = "smtp",
        encryption: str = "none",
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        auth_required: bool = False,
        disabled_capabilities: Iterable[str] = (),
        transcript: Transcript | None = None,
        clock: Clock | None = None,
        hostname: str = "fakemail.localhost",
        faults: FaultPlan | None = None,
    ) -> None:
        if encryption not in ENCRYPTIONS:
            raise ValueError(
                f"invalid SMTP encryption {encryption!r}: use one of {ENCRYPTIONS}"
            )
        if encryption != "none" and tls_context is None:
            raise ValueError(f"SMTP encryption {encryption!r} needs a tls_context")
        self.accounts = accounts
        self.outbox = outbox
        self.name = name
        self.encryption = encryption
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.auth_required = auth_required
        self.disabled = {item.upper() for item in disabled_capabilities}
        self.transcript = transcript
        self.clock: Clock = clock or RealClock()
        self.hostname = hostname
        self.faults = faults
        self.port: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[_FakeSMTP] = set()
        self._connection_numbers = itertools.count(1)
        self._handler = _Handler(self)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host``:``port`` (0 picks a free port); return the port."""
        loop = asyncio.get_running_loop()
        implicit = self.encryption == "ssl"
        self._server = await loop.create_server(
            self._make_protocol,
            host=host,
            port=port,
            ssl=self.tls_context if implicit else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info(
            "SMTP listener %s on %s:%s (%s)",
            self.name,
            host,
            self.port,
            self.encryption,
        )
        return self.port

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is None:
            return
        self._server.close()
        self.drop_connections()
        await self._server.wait_closed()
        self._server = None
        log.info("SMTP listener %s stopped", self.name)

    def drop_connections(self) -> None:
        """Abort every open connection, as a crashing server would."""
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.abort()
        self._connections.clear()

    def _make_protocol(self) -> _FakeSMTP:
        starttls = self.encryption == "starttls" and "STARTTLS" not in self.disabled
        excluded = self._excluded_mechanisms()
        with warnings.catch_warnings():
            # aiosmtpd warns when AUTH is required without its own TLS check.
            # That check is replaced here (implicit TLS) or off on purpose
            # (plaintext mode imitates servers that allow it).
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return self._new_protocol(starttls, excluded)

    def _new_protocol(self, starttls: bool, excluded: list[str]) -> _FakeSMTP:
        return _FakeSMTP(
            self._handler,
            owner=self,
            # "#" keeps these ids apart from the IMAP sessions' "imap-N" in a
            # transcript both servers share.
            connection_id=f"{self.name}#{next(self._connection_numbers)}",
            implicit_tls=self.encryption == "ssl",
            hostname=self.hostname,
            tls_context=self.tls_context if starttls else None,
            require_starttls=starttls and self.require_starttls,
            auth_required=self.auth_required,
            # Only STARTTLS mode requires TLS before AUTH: an implicit-TLS
            # transport is already encrypted and "none" has no TLS at all.
            auth_require_tls=self.encryption == "starttls",
            auth_exclude_mechanism=excluded,
            authenticator=self._authenticate,
            enable_SMTPUTF8=True,
        )

    def _excluded_mechanisms(self) -> list[str]:
        mechanisms = {"PLAIN", "LOGIN", "XOAUTH2"}
        if "AUTH" in self.disabled:
            return sorted(mechanisms)
        return sorted(m for m in mechanisms if f"AUTH={m}" in self.disabled)

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if self.accounts.check_password(username, password):
            account = self.accounts.get(username)
            assert account is not None
            return AuthResult(success=True, auth_data=account.username)
        log.info("SMTP %s: %s login failed for %r", self.name, mechanism, username)
        return AuthResult(success=False, handled=False)

    def _record(self, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        record = self.outbox.add(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=bytes(raw),
            received_at=time.time(),
            scenario_time=self.clock.now(),
            authenticated_user=session.auth_data if session.authenticated else None,
            listener=self.name,
            tls=session.ssl is not None,
        )
        log.info(
            "SMTP %s accepted message %s from %r to %r",
            self.name,
            record.id,
            record.mail_from,
            record.rcpt_tos,
        )
        return record.id


class _Handler:
    """aiosmtpd handler: stores messages and implements AUTH XOAUTH2."""

    def __init__(self, owner: SMTPServer) -> None:
        self.owner = owner

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        record_id = self.owner._record(session, envelope)
        return f"250 2.0.0 OK: queued as {record_id}"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 1:
            response = await server.challenge_auth("")
            if response is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                response = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)

        assert isinstance(response, bytes)
        parsed = parse_xoauth2(response)
        if parsed is None:
            await server.push("501 5.5.2 Invalid XOAUTH2 initial response")
            return AuthResult(success=False, handled=True)
        username, token = parsed

        status = self.owner.accounts.check_token(username, token)
        if status is TokenStatus.VALID:
            account = self.owner.accounts.get(username)
            assert account is not None
            return AuthResult(success=True, auth_data=account.username)

        log.info(
            "SMTP %s: XOAUTH2 token for %r is %s",
            self.owner.name,
            username,
            status.value if status else "unknown",
        )
        error = json.dumps(XOAUTH2_ERROR).encode("utf-8")
        if await server.challenge_auth(error) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=XOAUTH2_FAILED)


def parse_xoauth2(response: bytes) -> tuple[str, str] | None:
    """Split a decoded XOAUTH2 response into user name and bearer token."""
    fields: dict[str, str] = {}
    for part in response.decode("utf-8", "replace").split("\x01"):
        key, separator, value = part.partition("=")
        if separator:
            fields[key] = value
    user, auth = fields.get("user"), fields.get("auth", "")
    scheme, _, token = auth.partition(" ")
    if not user or scheme.lower() != "bearer" or not token:
        return None
    return user, token


class _FakeSMTP(SMTP):
    """aiosmtpd's SMTP with a transcript, implicit-TLS awareness and a drop switch."""

    def __init__(
        self,
        handler: _Handler,
        *,
        owner: SMTPServer,
        connection_id: str,
        implicit_tls: bool,
        **parameters: Any,
    ) -> None:
        super().__init__(handler, **parameters)
        self._owner = owner
        self._connection_id = connection_id
        self._implicit_tls = implicit_tls
        self._reader_wrapped = False
        self._in_data = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._owner._connections.add(self)
        if self._implicit_tls and self.session is not None:
            # aiosmtpd only fills session.ssl after STARTTLS; over implicit
            # TLS the transport already carries the SSL object.
            self.session.ssl = {"ssl_object": transport.get_extra_info("ssl_object")}
        if not self._reader_wrapped:
            self._wrap_reader()

    def connection_lost(self, error: Exception | None) -> None:
        self._owner._connections.discard(self)
        super().connection_lost(error)

    async def push(self, status: str | bytes) -> None:
        line = status.encode("utf-8") if isinstance(status, str) else status
        self._record("S", line)
        await super().push(status)

    async def smtp_DATA(self, arg: str) -> None:
        if await self._apply_fault("DATA"):
            return
        self._in_data = True
        try:
            await super().smtp_DATA(arg)
        finally:
            self._in_data = False

    async def _apply_fault(self, command: str) -> bool:
        """Apply the scenario fault armed for ``command``; True if it sent the reply."""
        plan = self._owner.faults
        rule = plan.take(command) if plan is not None else None
        if rule is None:
            return False
        log.info(
            "%s: applying fault %s to %s",
            self._connection_id,
            rule.action.value,
            command,
        )
        if rule.action is FaultAction.DELAY:
            await self._owner.clock.sleep(rule.seconds)
            return False
        reply = _FAULT_REPLIES.get(rule.action)
        if reply is not None:
            await self.push(f"{reply} {rule.text}")
        if self.transport is not None and rule.action is FaultAction.BYE:
            self.transport.close()
        elif self.transport is not None and reply is None:
            self.transport.abort()
        return True

    def _wrap_reader(self) -> None:
        # aiosmtpd reads commands with readuntil() and SASL responses with
        # readline(); both go through the transcript, message content doesn't.
        reader = self._reader
        self._reader_wrapped = True
        reader.readuntil = self._recording(reader.readuntil)  # type: ignore[method-assign]
        reader.readline = self._recording(reader.readline)  # type: ignore[method-assign]

    def _recording(
        self, read: Callable[..., Awaitable[bytes]]
    ) -> Callable[..., Awaitable[bytes]]:
        async def recorded(*args: Any, **kwargs: Any) -> bytes:
            line = await read(*args, **kwargs)
            if not self._in_data or line.rstrip(b"\r\n") == b".":
                self._record("C", line)
            return line

        return recorded

    def _record(self, direction: str, line: bytes) -> None:
        if self._owner.transcript is not None:
            self._owner.transcript.record(self._connection_id, direction, line)


def _with_fault(command: str) -> Callable[..., Awaitable[None]]:
    original = getattr(SMTP, f"smtp_{command}")

    @functools.wraps(original)
    async def handle(self: _FakeSMTP, arg: str) -> None:
        if await self._apply_fault(command):
            return
        await original(self, arg)

    return handle


for _command in FAULT_COMMANDS:
    if _command != "DATA":
        setattr(_FakeSMTP, f"smtp_{_command}", _with_fault(_command))
