"""One IMAP connection: reading commands, dispatching them and sending updates."""

from __future__ import annotations

import asyncio
import bisect
import enum
import itertools
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fakemail.faults import FaultAction, FaultRule
from fakemail.imap.syntax import ParseError, Parser, summarize_literals
from fakemail.mailstore import (
    EventKind,
    MailStoreError,
    Message,
    StoreEvent,
    normalize_flag,
)

if TYPE_CHECKING:
    from fakemail.imap.server import IMAPServer

log = logging.getLogger(__name__)

MAX_LITERAL = 64 * 1024 * 1024
_LITERAL_AT_END = re.compile(rb"\{(\d{1,10})(\+?)\}\r\n$")
_LITERAL_IN_COMMAND = re.compile(rb"\{(\d{1,10})\+?\}\r\n")
_FLUSH_SIZE = 1 << 22
_connection_ids = itertools.count(1)
SYSTEM_FLAG_ORDER = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


class State(enum.Enum):
    """RFC 3501 connection states."""

    NOT_AUTHENTICATED = 1
    AUTHENTICATED = 2
    SELECTED = 3
    LOGOUT = 4


class CommandError(Exception):
    """Ends a command with a tagged NO or BAD carrying ``text``.

    ``tag`` is set when the error comes before the command was parsed (a
    line over the limit); without one the response is untagged.
    """

    def __init__(self, status: str, text: str, tag: str | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.tag = tag


# RFC 3501: a tag is any ASTRING-CHAR but "+", so no space, control, "(",
# ")", "{", "%", "*", quote or backslash.
_TAG = re.compile(rb'^([^\x00-\x20\x7f(){%*"\\+]+) ')


def _leading_tag(start: bytes) -> str | None:
    """Return the IMAP tag at the start of a line, or None when there is none."""
    match = _TAG.match(start)
    if match is None:
        return None
    return match.group(1).decode("ascii", "replace")


class ConnectionClosed(Exception):
    """Ends the session without a further response."""


Handler = Callable[["Session", bytes, Parser, bool], Awaitable[str | None]]


class Session:
    """State of one client connection, from greeting to LOGOUT."""

    def __init__(
        self,
        server: IMAPServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        tls: bool,
    ) -> None:
        self.server = server
        self.store = server.store
        self.reader = reader
        self.writer = writer
        self.tls = tls
        self.id = f"imap-{next(_connection_ids)}"
        self.state = State.NOT_AUTHENTICATED
        self.user: str | None = None
        self.selected: str | None = None
        self.readonly = False
        self.view: list[Message] = []
        self.view_uids: list[int] = []
        self.recent: set[int] = set()
        self.pending: list[StoreEvent] = []
        self.wake = asyncio.Event()
        self.enabled: set[str] = set()
        self.cut_literal = False
        self._buffer: list[bytes] = []
        self._buffered = 0

    # Connection lifetime

    async def run(self) -> None:
        """Greet the client and respond to commands until LOGOUT or disconnect."""
        unsubscribe = self.store.subscribe(self._on_event)
        try:
            capabilities = " ".join(self.server.capabilities(self))
            await self.send_line(f"* OK [CAPABILITY {capabilities}] fakemail ready.")
            while self.state is not State.LOGOUT:
                try:
                    command = await self.read_command()
                except CommandError as error:
                    await self.send_line(
                        f"{error.tag or '*'} {error.status} {error.text}"
                    )
                    continue
                if command is None:
                    break
                await self.handle(command)
        except (ConnectionClosed, ConnectionError, asyncio.IncompleteReadError):
            pass
        except ssl.SSLError as error:
            log.info("%s: TLS error: %s", self.id, error)
        finally:
            unsubscribe()
            self.close()

    def close(self) -> None:
        """Close the transport at once, without waiting for the client."""
        if not self.writer.is_closing():
            self.writer.close()

    # Reading

    async def read_line(self) -> bytes:
        """Read one line; raise ConnectionClosed at end of input.

        A line longer than the stream limit (1 MB) is read to its end and
        dropped, and CommandError("BAD") is raised, so the connection stays.
        """
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as error:
            line = error.partial
        except asyncio.LimitOverrunError as error:
            start = await self._discard_line(error.consumed)
            # The tag is read from the start of the dropped line, so a client
            # waiting for its tagged response gets one.
            raise CommandError(
                "BAD", "Command line too long: the limit is 1 MB.", _leading_tag(start)
            ) from None
        if not line:
            raise ConnectionClosed
        if not line.endswith(b"\r\n"):
            line = line[:-1] + b"\r\n" if line.endswith(b"\n") else line + b"\r\n"
        return line

    async def _discard_line(self, consumed: int) -> bytes:
        """Read and drop the rest of an overlong line; return its first bytes."""
        start = b""
        while True:
            chunk = await self.reader.readexactly(consumed)
            start = start or chunk[:64]
            try:
                await self.reader.readuntil(b"\n")
                return start
            except asyncio.LimitOverrunError as error:
                consumed = error.consumed

    async def read_command(self) -> bytes | None:
        """Read one command and its literals; send ``+`` for synchronizing literals."""
        try:
            line = await self.read_line()
        except ConnectionClosed:
            return None
        parts = [line]
        while match := _LITERAL_AT_END.search(line):
            size, non_sync = int(match.group(1)), bool(match.group(2))
            if size > MAX_LITERAL:
                if non_sync:
                    await self.send_line("* BYE Literal too large, closing connection.")
                    raise ConnectionClosed
                parts[-1] = line[: match.start()] + b"\r\n"
                return b"".join(parts)[:-2]
            if not non_sync:
                await self.send_line("+ Ready for literal data")
            parts.append(await self.reader.readexactly(size))
            line = await self.read_line()
            parts.append(line)
        command = b"".join(parts)[:-2]
        self.record_client(command)
        return command

    def record_client(self, command: bytes) -> None:
        """Record ``command`` with each literal shown as ``{n} <n bytes>``."""
        transcript = self.server.transcript
        if transcript is None:
            return
        parts: list[bytes] = []
        position = 0
        while match := _LITERAL_IN_COMMAND.search(command, position):
            size = int(match.group(1))
            parts.append(command[position : match.start()])
            parts.append(b"{%d} <%d bytes>" % (size, size))
            position = match.end() + size
        parts.append(command[position:])
        transcript.record(self.id, "C", b"".join(parts))

    # Writing

    async def send(self, data: bytes) -> None:
        """Queue ``data``; it goes out at the next ``flush`` or once 4 MB pile up."""
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= _FLUSH_SIZE:
            await self.flush()

    async def send_line(self, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        await self.send(data + b"\r\n")
        await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        if self.server.transcript is not None:
            for line in summarize_literals(data):
                self.server.transcript.record(self.id, "S", line)
        if self.cut_literal:
            self._cut(data)
        self.writer.write(data)
        await self.writer.drain()

    def _cut(self, data: bytes) -> None:
        match = re.search(rb"\{(\d+)\}\r\n", data)
        if match is None:
            return
        end = match.end() + int(match.group(1)) // 2
        self.writer.write(data[:end])
        self.writer.close()
        raise ConnectionClosed

    # Dispatch

    async def handle(self, command: bytes) -> None:
        """Parse and run one command; a syntax error gets a BAD response."""
        from fakemail.imap.commands import COMMANDS, UID_COMMANDS

        parser = Parser(command)
        try:
            tag = parser.tag()
            parser.space()
            name = parser.atom().upper()
        except ParseError:
            tag = command.split(b" ", 1)[0] if command.strip() else b"*"
            if not re.fullmatch(rb"[\x21-\x7e]+", tag) or b"+" in tag:
                tag = b"*"
            await self.send_line(tag + b" BAD Error in IMAP command: invalid syntax.")
            return
        uid = name == b"UID"
        full_name = name
        table = COMMANDS
        try:
            if uid:
                parser.space()
                name = parser.atom().upper()
                full_name = b"UID " + name
                table = UID_COMMANDS
        except ParseError:
            await self.send_line(
                tag + b" BAD Error in IMAP command UID: missing command."
            )
            return
        entry = table.get(name)
        if entry is None or not self.server.command_enabled(full_name.decode()):
            await self.send_line(tag + b" BAD Error in IMAP command: unknown command.")
            return
        await self._run(tag, full_name.decode(), entry, parser, uid)

    async def _run(
        self,
        tag: bytes,
        name: str,
        entry: tuple[Handler, frozenset[State]],
        parser: Parser,
        uid: bool,
    ) -> None:
        handler, states = entry
        faults = self.server.faults
        rule = faults.take(name, tag.decode()) if faults is not None else None
        if rule is not None and await self._apply_fault(rule, tag):
            return
        if self.state not in states:
            await self.send_line(tag + _wrong_state(self.state, name))
            return
        status, text = await self._call(handler, tag, name, parser, uid)
        if status is None:
            return
        # RFC 3501 forbids EXPUNGE responses during FETCH, STORE and SEARCH
        # by sequence number, because they would shift the numbers in use.
        deferrable = name in ("FETCH", "STORE", "SEARCH")
        await self.flush_updates(allow_expunge=not deferrable)
        await self.send_line(f"{tag.decode()} {status} {text}")
        if self.cut_literal:
            raise ConnectionClosed

    async def _call(
        self, handler: Handler, tag: bytes, name: str, parser: Parser, uid: bool
    ) -> tuple[str | None, str]:
        """Run ``handler``; return the tagged status and text (None: already sent)."""
        try:
            text = await handler(self, tag, parser, uid)
        except ParseError as error:
            return "BAD", f"Error in IMAP command {name}: {error}"
        except CommandError as error:
            return error.status, error.text
        except (ConnectionClosed, ConnectionError, asyncio.IncompleteReadError):
            raise
        except ssl.SSLError:
            raise
        except MailStoreError as error:
            return "NO", str(error)
        except Exception:
            # A bug must not cost the client its connection. The client gets
            # a NO response and the traceback goes to the log.
            log.exception("%s: %s failed", self.id, name)
            return "NO", "[SERVERBUG] Internal error in fakemail; see its log."
        if text is None:
            return None, ""
        return "OK", text

    async def _apply_fault(self, rule: FaultRule, tag: bytes) -> bool:
        """Apply ``rule``; return True when the command must not run."""
        log.info(
            "%s: applying fault %s to %s", self.id, rule.action.value, rule.command
        )
        if rule.action is FaultAction.DELAY:
            await self.server.sleep(rule.seconds)
            return False
        if rule.action is FaultAction.CUT_LITERAL:
            self.cut_literal = True
            return False
        if rule.action in (FaultAction.NO, FaultAction.BAD):
            await self.send_line(f"{tag.decode()} {rule.action.name} {rule.text}")
            return True
        if rule.action is FaultAction.BYE:
            await self.send_line(f"* BYE {rule.text}")
        self.writer.close()
        raise ConnectionClosed

    # Selected mailbox and its updates

    def select(self, name: str, readonly: bool) -> None:
        """Make ``name`` the selected folder and take a snapshot of its messages."""
        folder = self.store.folder(self.user or "", name)
        self.selected = folder.name
        self.readonly = readonly
        self.view = list(folder.messages)
        self.view_uids = [message.uid for message in self.view]
        self.pending = [e for e in self.pending if e.folder != folder.name]
        if readonly:
            # EXAMINE shows \Recent without taking it from other sessions.
            self.recent = {m.uid for m in folder.messages if m.recent}
        else:
            self.recent = self.store.claim_recent(self.user or "", folder.name)
        self.state = State.SELECTED

    def unselect(self) -> None:
        self.selected = None
        self.view = []
        self.view_uids = []
        self.recent = set()
        self.pending = []
        self.state = State.AUTHENTICATED

    def seq_of(self, uid: int) -> int | None:
        index = bisect.bisect_left(self.view_uids, uid)
        if index < len(self.view_uids) and self.view_uids[index] == uid:
            return index + 1
        return None

    def _on_event(self, event: StoreEvent) -> None:
        if self.user is None or event.user.casefold() != self.user.casefold():
            return
        if self.selected is None or event.folder != self.selected:
            return
        self.pending.append(event)
        self.wake.set()

    async def flush_updates(self, *, allow_expunge: bool = True) -> None:
        """Send untagged EXISTS, RECENT, EXPUNGE and FETCH FLAGS for pending changes."""
        if not self.pending or self.selected is None:
            return
        kept: list[StoreEvent] = []
        exists_before = len(self.view)
        recent_before = len(self.recent)
        for event in self.pending:
            if event.kind is EventKind.EXPUNGED and not allow_expunge:
                kept.append(event)
            elif kept and event.kind is not EventKind.DELIVERED:
                # Later changes wait behind a held EXPUNGE so the order holds.
                kept.append(event)
            else:
                await self._apply_event(event)
        self.pending = kept
        self.wake.clear()
        if len(self.view) > exists_before or len(self.recent) != recent_before:
            if len(self.view) > exists_before:
                await self.send(b"* %d EXISTS\r\n" % len(self.view))
            await self.send(b"* %d RECENT\r\n" % len(self.recent))
        await self.flush()

    async def _apply_event(self, event: StoreEvent) -> None:
        if event.kind is EventKind.DELIVERED:
            self._add_delivered(event)
        elif event.kind is EventKind.EXPUNGED:
            for uid in event.uids:
                seq = self.seq_of(uid)
                if seq is not None:
                    del self.view[seq - 1]
                    del self.view_uids[seq - 1]
                    self.recent.discard(uid)
                    await self.send(b"* %d EXPUNGE\r\n" % seq)
        elif event.kind is EventKind.FLAGS and event.origin is not self:
            for uid in event.uids:
                seq = self.seq_of(uid)
                if seq is not None:
                    await self.send(self.flags_response(seq, self.view[seq - 1]))
        elif event.kind is EventKind.UIDVALIDITY:
            await self.send_line(
                "* BYE [UIDVALIDITY] Mailbox UIDVALIDITY changed, reselect it."
            )
            raise ConnectionClosed
        elif event.kind is EventKind.DELETED:
            await self.send_line(
                "* BYE Selected mailbox was deleted, closing connection."
            )
            raise ConnectionClosed
        elif event.kind is EventKind.RENAMED and event.new_name:
            self.selected = event.new_name

    def _add_delivered(self, event: StoreEvent) -> None:
        folder = self.store.folder(self.user or "", event.folder)
        for uid in event.uids:
            message = folder.find(uid)
            if message is None or (self.view_uids and uid <= self.view_uids[-1]):
                continue
            self.view.append(message)
            self.view_uids.append(uid)
            if message.recent and not self.readonly:
                message.recent = False
                self.recent.add(uid)

    def flags_of(self, message: Message) -> bytes:
        """Return the FLAGS list: system flags, \\Recent, keywords (Dovecot's order)."""
        flags = [flag for flag in SYSTEM_FLAG_ORDER if flag in message.flags]
        if message.uid in self.recent:
            flags.append("\\Recent")
        flags += sorted(flag for flag in message.flags if not flag.startswith("\\"))
        return ("(" + " ".join(flags) + ")").encode("utf-8")

    def flags_response(self, seq: int, message: Message, *, uid: bool = True) -> bytes:
        if not uid:
            return b"* %d FETCH (FLAGS %s)\r\n" % (seq, self.flags_of(message))
        return b"* %d FETCH (UID %d FLAGS %s)\r\n" % (
            seq,
            message.uid,
            self.flags_of(message),
        )


def normalize_flags(flags: list[str]) -> set[str]:
    """Return ``flags`` with system flags in canonical case; reject \\Recent."""
    result = set()
    for flag in flags:
        canonical = normalize_flag(flag)
        if canonical.startswith("\\") and canonical not in (
            "\\Seen",
            "\\Answered",
            "\\Flagged",
            "\\Deleted",
            "\\Draft",
        ):
            raise CommandError("BAD", f"Invalid system flag {flag}.")
        result.add(canonical)
    return result


def _wrong_state(state: State, name: str) -> bytes:
    if state is State.NOT_AUTHENTICATED:
        return f" NO Command {name} needs authentication: log in first.".encode()
    if state is State.AUTHENTICATED:
        return (
            f" BAD Command {name} needs a selected mailbox: SELECT one first.".encode()
        )
    return f" BAD Command {name} is not valid after authentication.".encode()
