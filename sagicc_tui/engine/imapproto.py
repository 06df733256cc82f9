"""aioimaplib 2.0.3's client protocol with the fixes the engine relies on.

Each override below names the aioimaplib behaviour it replaces. The pin
``aioimaplib>=2.0.3,<3`` in pyproject.toml keeps these private hooks stable.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

from aioimaplib.aioimaplib import (
    CRLF,
    Command,
    FetchCommand,
    IMAP4ClientProtocol,
    IncompleteRead,
    literal_data_re,
)

log = logging.getLogger(__name__)

_EXISTS = re.compile(rb"^(\d+) EXISTS\b", re.IGNORECASE)
_EXPUNGE = re.compile(rb"^\d+ EXPUNGE\b", re.IGNORECASE)
_BYE = re.compile(rb"^BYE\b ?(.*)$", re.IGNORECASE)
_UIDVALIDITY = re.compile(rb"^OK \[UIDVALIDITY (\d+)\]", re.IGNORECASE)


class EngineProtocol(IMAP4ClientProtocol):
    """IMAP client protocol that reports mailbox changes and lost connections.

    - ``mailbox_changed`` is set on every untagged EXISTS or EXPUNGE, also
      while a FETCH runs (aioimaplib 2.0.3 drops an EXISTS that arrives during
      an async command unless a NOOP is pending).
    - ``lost`` is a future that completes when the connection closes, because
      aioimaplib 2.0.3 leaves pending commands waiting for their timeout.
    - ``continuation_handler`` responds to ``+`` lines of AUTHENTICATE
      (aioimaplib only responds to them for APPEND and IDLE).
    - Responses are parsed in a loop (aioimaplib recurses once per line and
      so can exceed Python's recursion limit on a large read).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, self._on_connection_lost)
        self.mailbox_changed = asyncio.Event()
        self.last_exists: int | None = None
        self.bye_text: str | None = None
        self.uidvalidity_changed = False
        self.lost: asyncio.Future[Exception | None] = loop.create_future()
        self.greeting_error: Exception | None = None
        self.greeting_failed = asyncio.Event()
        self.continuation_handler: Callable[[bytes], None] | None = None
        # Tag of a STARTTLS in flight. Bytes after its tagged response but
        # before the TLS handshake were sent in clear by anyone on the path,
        # so they are held back and the upgrade is refused.
        self.starttls_tag: bytes | None = None
        self.data_after_starttls = False

    def _on_connection_lost(self, error: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(error)

    async def welcome(self, command: bytes) -> None:
        # aioimaplib runs this in a task whose exception is never retrieved,
        # so a BYE greeting would otherwise only surface as a timeout.
        try:
            await super().welcome(command)
        except Exception as error:
            self.greeting_error = error
            self.greeting_failed.set()

    def data_received(self, d: bytes) -> None:
        if self.starttls_tag is not None:
            d = self._cut_after_starttls(self.incomplete_line + d)
            self.incomplete_line = b""
            if not d:
                return
        super().data_received(d)

    def _cut_after_starttls(self, data: bytes) -> bytes:
        """Return ``data`` up to the end of STARTTLS's tagged response line."""
        assert self.starttls_tag is not None
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            if data.startswith(self.starttls_tag + b" ", start):
                if data[end + 1 :]:
                    self.data_after_starttls = True
                self.starttls_tag = None
                return data[: end + 1]
            start = end + 1
        return data

    def write(self, data: bytes) -> None:
        """Write raw bytes (a SASL response or DONE) without logging them."""
        self.transport.write(data)

    def _untagged_response(self, line: bytes) -> Command:
        body = line[2:] if line.startswith(b"* ") else line
        if match := _EXISTS.match(body):
            self.last_exists = int(match.group(1))
            self.mailbox_changed.set()
        elif _EXPUNGE.match(body):
            self.mailbox_changed.set()
        elif match := _BYE.match(body):
            self.bye_text = match.group(1).decode("utf-8", "replace")
        elif _UIDVALIDITY.match(body) and not self._selecting():
            # A new UIDVALIDITY outside SELECT: every UID the engine stored
            # for this folder is void, so the folder must be selected again.
            self.uidvalidity_changed = True
            self.mailbox_changed.set()
        return super()._untagged_response(line)

    def _selecting(self) -> bool:
        pending = self.pending_sync_command
        return pending is not None and pending.name in {"SELECT", "EXAMINE"}

    def _continuation(self, line: bytes) -> None:
        pending = self.pending_sync_command
        if (
            self.continuation_handler is not None
            and pending is not None
            and pending.name == "AUTHENTICATE"
        ):
            self.continuation_handler(line)
            return
        super()._continuation(line)

    def _handle_responses(
        self,
        data: bytes,
        line_handler: Callable[[bytes, Command], Command | None],
        current_cmd: Command | None = None,
    ) -> None:
        # Same contract as aioimaplib 2.0.3's recursive version: raise
        # IncompleteRead with the unread bytes when a line or literal is cut.
        position = 0
        length = len(data)
        while True:
            if position >= length:
                if self.pending_sync_command is not None:
                    self.pending_sync_command.flush()
                if current_cmd is not None and current_cmd.wait_data():
                    raise IncompleteRead(current_cmd)
                return

            if current_cmd is not None and current_cmd.wait_literal_data():
                position = _feed_literal(current_cmd, data, position)
                if current_cmd.wait_literal_data():
                    raise IncompleteRead(current_cmd)

            end = data.find(CRLF, position)
            if end < 0:
                raise IncompleteRead(current_cmd, data[position:])
            line = data[position:end]
            position = end + 2

            command = line_handler(line, current_cmd)
            begin_literal = literal_data_re.match(line)
            if begin_literal:
                if command is None:
                    command = Command("NIL", "unused", loop=self.loop)
                command.begin_literal_data(int(begin_literal.group("size")))
                current_cmd = command
            elif command is not None and command.wait_data():
                current_cmd = command
            else:
                current_cmd = None


def _feed_literal(command: Command, data: bytes, position: int) -> int:
    # Hand over only the literal's remaining bytes, so the rest of a large
    # read is not copied once per literal.
    missing = command._expected_size - len(command._resp_literal_data)
    chunk = data[position : position + missing]
    command.append_literal_data(chunk)
    return position + len(chunk)


class BalancedFetchCommand(FetchCommand):
    """A FETCH that tracks parenthesis balance as lines arrive.

    aioimaplib 2.0.3's ``FetchCommand.wait_data`` rescans every line of the
    response for each new line, so a FETCH of n messages costs O(n^2).
    This keeps the balance of the current ``* n FETCH (`` item instead.
    Literals arrive as ``bytearray`` and never count, as in aioimaplib.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._balance = 0
        super().__init__(*args, **kwargs)

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        super().append_to_resp(line, result)
        if result != "Pending" or not isinstance(line, bytes):
            return
        if self.FETCH_MESSAGE_DATA_RE.match(line):
            self._balance = 0
        self._balance += line.count(b"(") - line.count(b")")

    def wait_data(self) -> bool:
        return self._balance != 0
