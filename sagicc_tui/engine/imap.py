"""An IMAP client for the engine: aioimaplib 2.0.3 plus the parts it lacks.

Adds STARTTLS (``loop.start_tls``), AUTHENTICATE PLAIN, XOAUTH2 that responds
to the server's error challenge, modified UTF-7 folder names, and errors that
tell an administrator what failed and how to fix it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass

from aioimaplib.aioimaplib import (
    SELECTED,
    AioImapException,
    Command,
    CommandTimeout,
    Response,
    quoted,
)

from sagicc_tui.engine.errors import (
    ChannelError,
    CommandFailed,
    ConnectFailed,
    ConnectionDropped,
    FolderFailed,
    GreetingFailed,
    ResolveFailed,
    StartTlsFailed,
)
from sagicc_tui.engine.imapauth import ImapAuthMixin, response_text
from sagicc_tui.engine.imapparse import (
    FetchedMessage,
    MailboxStatus,
    parse_capabilities,
    parse_fetch,
    parse_search,
    parse_select,
)
from sagicc_tui.engine.imapproto import BalancedFetchCommand, EngineProtocol
from sagicc_tui.engine.tls import client_context, describe_tls_error
from sagicc_tui.engine.utf7 import encode_mailbox

log = logging.getLogger(__name__)

ENCRYPTIONS = ("ssl", "starttls", "none")


@dataclass(frozen=True, slots=True)
class ImapEndpoint:
    """Server address and connection options; ``timeout`` (seconds) bounds each step."""

    host: str
    port: int
    encryption: str = "ssl"
    validate_certificates: bool = True
    ca_file: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.encryption not in ENCRYPTIONS:
            raise ValueError(
                f"invalid encryption {self.encryption!r}: use one of "
                + ", ".join(ENCRYPTIONS)
            )


def uid_set(uids: Iterable[int]) -> str:
    """Format UIDs as a compact IMAP sequence set (``1:3,7``)."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("empty UID set")
    ranges: list[str] = []
    start = previous = ordered[0]
    for uid in ordered[1:]:
        if uid == previous + 1:
            previous = uid
            continue
        ranges.append(f"{start}:{previous}" if start != previous else str(start))
        start = previous = uid
    ranges.append(f"{start}:{previous}" if start != previous else str(start))
    return ",".join(ranges)


class ImapClient(ImapAuthMixin):
    """One IMAP connection. Every failure raises a ``ChannelError``."""

    def __init__(self, endpoint: ImapEndpoint) -> None:
        self.endpoint = endpoint
        self.utf8_enabled = False
        self._protocol: EngineProtocol | None = None
        self._idle_task: asyncio.Future[Response] | None = None
        self._closed = False

    @property
    def protocol(self) -> EngineProtocol:
        if self._protocol is None:
            raise RuntimeError("ImapClient.connect() has not been called")
        return self._protocol

    @property
    def capabilities(self) -> frozenset[str]:
        """The server's capabilities in upper case, as last announced."""
        return parse_capabilities(" ".join(self.protocol.capabilities))

    @property
    def mailbox_changed(self) -> asyncio.Event:
        """Set when the server reports EXISTS or EXPUNGE; the caller clears it."""
        return self.protocol.mailbox_changed

    @property
    def connected(self) -> bool:
        if self._protocol is None or self._closed:
            return False
        return not self._protocol.lost.done()

    # Connection -----------------------------------------------------------

    async def connect(self) -> None:
        """Connect, read the greeting and, for ``starttls``, upgrade.

        For ``starttls`` no credentials can be sent before the upgrade
        succeeded: a server without STARTTLS, or a failed upgrade, closes the
        connection and raises StartTlsFailed or CertificateInvalid.
        """
        endpoint = self.endpoint
        loop = asyncio.get_running_loop()
        self._protocol = EngineProtocol(loop)
        implicit = endpoint.encryption == "ssl"
        context = self._context() if implicit else None
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: self._protocol,
                    endpoint.host,
                    endpoint.port,
                    ssl=context,
                    server_hostname=endpoint.host if implicit else None,
                    ssl_handshake_timeout=endpoint.timeout if implicit else None,
                ),
                endpoint.timeout,
            )
        except Exception as error:
            raise self._connect_error(error) from error

        await self._wait_greeting()
        if endpoint.encryption == "starttls":
            await self._starttls()
        elif endpoint.encryption == "none":
            log.warning(
                "IMAP connection to %s:%d is not encrypted: the password or "
                "token travels in clear",
                endpoint.host,
                endpoint.port,
            )

    def _context(self) -> ssl.SSLContext:
        return client_context(
            self.endpoint.validate_certificates, self.endpoint.ca_file
        )

    def _connect_error(self, error: BaseException) -> ChannelError:
        host, port = self.endpoint.host, self.endpoint.port
        if isinstance(error, socket.gaierror):
            return ResolveFailed(
                f"the host name {host} does not resolve ({error.strerror})",
                host=host,
                port=port,
                fix="Check the spelling of the host and this machine's DNS",
            )
        if isinstance(error, ssl.SSLError):
            return describe_tls_error(error, host=host, port=port)
        if isinstance(error, ConnectionRefusedError):
            return ConnectFailed(
                "connection refused",
                host=host,
                port=port,
                fix="Check the host and port; the server may be down",
            )
        if isinstance(error, asyncio.TimeoutError):
            return ConnectFailed(
                f"no connection within {self.endpoint.timeout:g} s",
                host=host,
                port=port,
                fix="Check the host, the port and any firewall between",
            )
        if isinstance(error, OSError):
            return ConnectFailed(
                f"connection failed: {error.strerror or error}", host=host, port=port
            )
        return ConnectFailed(f"connection failed: {error}", host=host, port=port)

    async def _wait_greeting(self) -> None:
        protocol = self.protocol
        host, port = self.endpoint.host, self.endpoint.port
        ready = asyncio.ensure_future(protocol.wait("AUTH|NONAUTH"))
        failed = asyncio.ensure_future(protocol.greeting_failed.wait())
        waiting = {ready, failed, protocol.lost}
        try:
            done, _ = await asyncio.wait(
                waiting,
                timeout=self.endpoint.timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
            failed.cancel()

        if ready in done:
            return
        self.abort()
        if failed in done:
            raise GreetingFailed(
                "the server rejected the connection",
                host=host,
                port=port,
                server_text=str(protocol.greeting_error),
            )
        hint = (
            "If this port expects TLS from the start (usually 993), set "
            "encryption to ssl"
            if self.endpoint.encryption != "ssl"
            else ""
        )
        if protocol.lost in done:
            raise ConnectionDropped(
                "the server closed the connection before its greeting",
                host=host,
                port=port,
                fix=hint,
                server_text=protocol.bye_text or "",
            )
        raise GreetingFailed(
            f"no IMAP greeting within {self.endpoint.timeout:g} s",
            host=host,
            port=port,
            fix=hint or "Check that this port serves IMAP",
        )

    async def _starttls(self) -> None:
        host, port = self.endpoint.host, self.endpoint.port
        if "STARTTLS" not in self.capabilities:
            self.abort()
            raise StartTlsFailed(
                f"the server at {host} does not offer STARTTLS; nothing was sent "
                "and the connection is closed",
                host=host,
                port=port,
                fix=(
                    "Use encryption ssl on the server's implicit-TLS port "
                    "(usually 993), or ask its administrator to enable STARTTLS"
                ),
            )

        protocol = self.protocol
        command = Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        protocol.starttls_tag = command.tag.encode("ascii")
        response = await self._run(protocol.execute(command), "STARTTLS")
        protocol.starttls_tag = None
        if response.result == "OK" and (
            protocol.data_after_starttls or protocol.incomplete_line
        ):
            self.abort()
            raise StartTlsFailed(
                f"{host} sent unencrypted data after accepting STARTTLS, which "
                "an attacker on the network path may have injected; the "
                "connection is closed",
                host=host,
                port=port,
                fix="Check the network path to the server, or use encryption ssl",
            )
        if response.result != "OK":
            self.abort()
            raise StartTlsFailed(
                f"STARTTLS was rejected by {host}; the connection is closed",
                host=host,
                port=port,
                server_text=response_text(response),
            )

        try:
            transport = await protocol.loop.start_tls(
                protocol.transport,
                protocol,
                self._context(),
                server_hostname=host,
                ssl_handshake_timeout=self.endpoint.timeout,
            )
        except ssl.SSLError as error:
            self.abort()
            raise describe_tls_error(
                error, host=host, port=port, step="STARTTLS handshake"
            ) from error
        except (TimeoutError, OSError, ConnectionError) as error:
            self.abort()
            raise StartTlsFailed(
                f"the STARTTLS handshake with {host} failed ({error!r}); "
                "the connection is closed",
                host=host,
                port=port,
            ) from error
        protocol.transport = transport

        # Capabilities seen before TLS cannot be trusted (RFC 3501 6.2.1).
        await self._run(protocol.capability(), "CAPABILITY")

    async def enable_utf8(self) -> bool:
        """Send ENABLE UTF8=ACCEPT when offered; return whether it is on."""
        if not {"ENABLE", "UTF8=ACCEPT"} <= self.capabilities:
            return False
        protocol = self.protocol
        command = Command(
            "ENABLE", protocol.new_tag(), "UTF8=ACCEPT", loop=protocol.loop
        )
        response = await self._run(protocol.execute(command), "ENABLE")
        enabled = any(
            isinstance(line, bytes) and b"UTF8=ACCEPT" in line.upper()
            for line in response.lines[:-1]
        )
        self.utf8_enabled = response.result == "OK" and enabled
        return self.utf8_enabled

    # Folders and messages ---------------------------------------------------

    def mailbox_argument(self, folder: str) -> str:
        """Quote a folder name for the wire: modified UTF-7 unless UTF-8 is on."""
        return quoted(folder if self.utf8_enabled else encode_mailbox(folder))

    async def select(self, folder: str, *, read_only: bool = False) -> MailboxStatus:
        """SELECT (or EXAMINE, which changes nothing) a folder."""
        protocol = self.protocol
        name = "EXAMINE" if read_only else "SELECT"
        command = Command(
            name, protocol.new_tag(), self.mailbox_argument(folder), loop=protocol.loop
        )
        response = await self._run(protocol.execute(command), name)
        if response.result != "OK":
            raise FolderFailed(
                f"the folder {folder!r} cannot be opened",
                host=self.endpoint.host,
                port=self.endpoint.port,
                server_text=response_text(response),
                fix="Check the folder name in the channel settings",
            )

        protocol.state = SELECTED
        protocol.uidvalidity_changed = False
        try:
            status = parse_select(response.lines)
        except ValueError as error:
            raise CommandFailed(
                f"{name} {folder!r}: {error}",
                host=self.endpoint.host,
                port=self.endpoint.port,
            ) from error
        self.protocol.last_exists = status.exists
        return status

    async def uid_search(self, *criteria: str) -> list[int]:
        """Run ``UID SEARCH`` (criteria as atoms) and return the UIDs."""
        response = await self._command("SEARCH", *criteria, prefix="UID")
        return parse_search(response.lines)

    async def uid_fetch(self, uids: str, items: str) -> list[FetchedMessage]:
        """Run ``UID FETCH``; ``timeout`` applies to silence, not to the total."""
        protocol = self.protocol
        command = BalancedFetchCommand(
            protocol.new_tag(),
            uids,
            items,
            prefix="UID",
            loop=protocol.loop,
            timeout=self.endpoint.timeout,
        )
        fetch = protocol.execute(command)
        response = await self._run(fetch, "UID FETCH", timeout=None)
        self._check(response, "UID FETCH")
        return parse_fetch(response.lines)

    async def uid_store(self, uids: str, operation: str, flags: str) -> None:
        """Run ``UID STORE uids operation (flags)``, e.g. ``+FLAGS.SILENT``."""
        await self._command(
            "STORE", uids, operation, f"({flags})", prefix="UID", untagged="FETCH"
        )

    async def uid_copy(self, uids: str, folder: str) -> None:
        await self._command("COPY", uids, self.mailbox_argument(folder), prefix="UID")

    async def uid_move(self, uids: str, folder: str) -> None:
        await self._command("MOVE", uids, self.mailbox_argument(folder), prefix="UID")

    async def uid_expunge(self, uids: str) -> None:
        """Expunge only these UIDs (UIDPLUS), else every ``\\Deleted`` one."""
        if "UIDPLUS" in self.capabilities:
            await self._command("EXPUNGE", uids, prefix="UID")
        else:
            await self._command("EXPUNGE")

    async def noop(self) -> None:
        await self._command("NOOP")

    async def create_folder(self, folder: str) -> None:
        await self._command("CREATE", self.mailbox_argument(folder))

    async def append(self, message: bytes, folder: str, flags: str = "") -> None:
        """APPEND a message (used for Sent copies and by tests)."""
        protocol = self.protocol
        append = protocol.append(
            message,
            self.mailbox_argument(folder),
            flags or None,
            timeout=self.endpoint.timeout,
        )
        self._check(await self._run(append, "APPEND", timeout=None), "APPEND")

    # IDLE ---------------------------------------------------------------------

    async def idle_start(self) -> None:
        """Send IDLE and wait for the server's continuation."""
        protocol = self.protocol
        self._idle_task = asyncio.ensure_future(protocol.idle())
        acknowledged = asyncio.ensure_future(protocol.wait_for_idle_response())
        try:
            done, _ = await asyncio.wait(
                {self._idle_task, acknowledged, protocol.lost},
                timeout=self.endpoint.timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            acknowledged.cancel()
        if acknowledged in done:
            return
        if self._idle_task in done:
            response = self._idle_task.result()
            self._idle_task = None
            raise self._failure("IDLE", response)
        self._idle_task.cancel()
        self._idle_task = None
        raise self.connection_error("IDLE", timed_out=protocol.lost not in done)

    async def idle_done(self) -> None:
        """Send DONE and wait for IDLE's tagged response."""
        task, self._idle_task = self._idle_task, None
        if task is None:
            return
        protocol = self.protocol
        protocol.idle_done()
        await self._run(task, "IDLE")

        # aioimaplib queues every untagged IDLE line; the engine reads
        # EXISTS from mailbox_changed instead, so drop the copies.
        while not protocol.idle_queue.empty():
            protocol.idle_queue.get_nowait()

    # Shutdown -----------------------------------------------------------------

    async def logout(self) -> None:
        """Send LOGOUT when still connected, then close."""
        if self.connected:
            try:
                await self._run(self.protocol.logout(), "LOGOUT", timeout=5)
            except (ChannelError, AioImapException):
                pass
        self.abort()

    def abort(self) -> None:
        """Close the connection at once."""
        self._closed = True
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()

    # Helpers ------------------------------------------------------------------

    async def _command(
        self, name: str, *args: str, prefix: str = "", untagged: str | None = None
    ) -> Response:
        protocol = self.protocol
        command = Command(
            name,
            protocol.new_tag(),
            *args,
            prefix=prefix or None,
            untagged_resp_name=untagged,
            loop=protocol.loop,
        )
        label = f"{prefix} {name}".strip()
        response = await self._run(protocol.execute(command), label)
        self._check(response, label)
        return response

    def _check(self, response: Response, what: str) -> None:
        if response.result != "OK":
            raise self._failure(what, response)

    def _failure(self, what: str, response: Response) -> CommandFailed:
        return CommandFailed(
            f"{what} failed with {response.result}",
            host=self.endpoint.host,
            port=self.endpoint.port,
            server_text=response_text(response),
        )

    async def _run(
        self, awaitable: Awaitable[Response], what: str, *, timeout: float | None = -1
    ) -> Response:
        """Await a command, failing fast when the connection drops."""
        if timeout == -1:
            timeout = self.endpoint.timeout
        protocol = self.protocol
        task = asyncio.ensure_future(awaitable)
        try:
            done, _ = await asyncio.wait(
                {task, protocol.lost},
                timeout=timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        except asyncio.CancelledError:
            task.cancel()
            raise

        if task in done:
            try:
                return task.result()
            except CommandTimeout as error:
                self.abort()
                raise self.connection_error(what, timed_out=True) from error
            except AioImapException as error:
                self.abort()
                raise CommandFailed(
                    f"{what} failed: {error}",
                    host=self.endpoint.host,
                    port=self.endpoint.port,
                ) from error
        task.cancel()
        self.abort()
        raise self.connection_error(what, timed_out=protocol.lost not in done)

    def connection_error(self, what: str, *, timed_out: bool) -> ConnectionDropped:
        """Build the error for a connection that closed or went silent."""
        if timed_out:
            message = f"no response to {what} within {self.endpoint.timeout:g} s"
        else:
            message = f"the server closed the connection during {what}"
        return ConnectionDropped(
            message,
            host=self.endpoint.host,
            port=self.endpoint.port,
            server_text=self.protocol.bye_text or "",
            fix="The engine reconnects by itself; if this repeats, check the server",
        )
