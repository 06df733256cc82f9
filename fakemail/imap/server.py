"""The fakemail IMAP server: an asyncio IMAP4rev1 listener over a MailStore."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable

from fakemail.accounts import Accounts
from fakemail.faults import FaultPlan
from fakemail.imap.commands import COMMAND_CAPABILITY
from fakemail.imap.session import Session
from fakemail.mailstore import MailStore
from fakemail.transcript import Transcript

log = logging.getLogger(__name__)

BASE_CAPABILITIES = (
    "IMAP4rev1",
    "SASL-IR",
    "LITERAL+",
    "ID",
    "ENABLE",
    "IDLE",
    "NAMESPACE",
    "UIDPLUS",
    "MOVE",
    "UNSELECT",
    "CHILDREN",
)
MECHANISMS = ("PLAIN", "LOGIN", "XOAUTH2")
# Maximum command line length, literals not counted. A longer line gets BAD.
# Dovecot 2.3.19 defaults to 64 KB (doveconf -d imap_max_line_length).
_STREAM_LIMIT = 1 << 20


class IMAPServer:
    """An IMAP server for the accounts and mail of one fakemail run.

    ``implicit_tls`` makes the listener speak TLS from the first byte (port
    993 style); ``starttls`` offers the STARTTLS upgrade on a plaintext
    listener. Names in ``disabled_capabilities`` (``"IDLE"``, ``"STARTTLS"``,
    ``"AUTH=PLAIN"``...) are left out of CAPABILITY and their commands get
    BAD. ``login_disabled_before_tls`` advertises LOGINDISABLED and rejects
    LOGIN and AUTHENTICATE until STARTTLS. ``sleep`` is the clock's sleep,
    used by delay faults.
    """

    def __init__(
        self,
        store: MailStore,
        accounts: Accounts,
        *,
        implicit_tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
        disabled_capabilities: Iterable[str] = (),
        login_disabled_before_tls: bool = False,
        faults: FaultPlan | None = None,
        transcript: Transcript | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if implicit_tls is not None and starttls is not None:
            raise ValueError(
                "choose implicit_tls or starttls for one listener, not both"
            )
        self.store = store
        self.accounts = accounts
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.disabled = {name.upper() for name in disabled_capabilities}
        self.login_disabled_before_tls = login_disabled_before_tls
        self.faults = faults
        self.transcript = transcript
        self.sleep = sleep
        self.sessions: set[Session] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int | None:
        """The port listened on, once started."""
        if self._server is None or not self._server.sockets:
            return None
        return self._server.sockets[0].getsockname()[1]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host``:``port`` (0 picks a free port) and return the port."""
        self._server = await asyncio.start_server(
            self._accept, host, port, ssl=self.implicit_tls, limit=_STREAM_LIMIT
        )
        bound = self.port
        assert bound is not None
        log.info("IMAP server listening on %s:%d", host, bound)
        return bound

    async def stop(self) -> None:
        """Close the listener and every connection, and wait for the sessions."""
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        log.info("IMAP server stopped")

    def drop_connections(self) -> None:
        """Close every client connection at once, as a crashed server would."""
        for session in list(self.sessions):
            session.writer.transport.abort()

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        session = Session(self, reader, writer, tls=self.implicit_tls is not None)
        self.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        except Exception:
            log.exception("%s: session failed", session.id)
        finally:
            self.sessions.discard(session)
            if task is not None:
                self._tasks.discard(task)

    # Capabilities

    def login_disabled(self, session: Session) -> bool:
        """True while LOGIN and AUTHENTICATE must wait for STARTTLS."""
        return self.login_disabled_before_tls and not session.tls

    def capabilities(self, session: Session) -> list[str]:
        """Return the capabilities to advertise to ``session`` in its state."""
        names = [name for name in BASE_CAPABILITIES if name not in self.disabled]
        if session.user is None:
            if (
                self.starttls is not None
                and not session.tls
                and "STARTTLS" not in self.disabled
            ):
                names.append("STARTTLS")
            if self.login_disabled(session):
                names.append("LOGINDISABLED")
            else:
                names += [f"AUTH={m}" for m in MECHANISMS if self.mechanism_enabled(m)]
        return names

    def mechanism_enabled(self, mechanism: str) -> bool:
        return mechanism in MECHANISMS and f"AUTH={mechanism}" not in self.disabled

    def command_enabled(self, name: str) -> bool:
        capability = COMMAND_CAPABILITY.get(name)
        if capability == "STARTTLS" and self.starttls is None:
            return True  # the handler sends a clearer BAD
        return capability is None or capability not in self.disabled
