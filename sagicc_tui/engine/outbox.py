"""The engine's outbox worker: send queued messages, retry, save Sent copies."""

from __future__ import annotations

import asyncio
import logging
import random
import shlex
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sagicc_tui.engine.clock import Clock, SystemClock
from sagicc_tui.engine.errors import ChannelError, CommandFailed
from sagicc_tui.engine.imap import ImapClient
from sagicc_tui.engine.smtp import (
    SendError,
    SmtpCredentials,
    SmtpEndpoint,
    send_message,
)
from sagicc_tui.engine.sync import imap_endpoint, sign_in
from sagicc_tui.engine.tokens import StoredTokenProvider, TokenProvider
from sagicc_tui.settings import (
    PASSWORD,
    SecretStore,
    SecretStoreError,
    secret_key,
)
from sagicc_tui.settings.models import (
    AuthMethod,
    Config,
    IncomingChannel,
    OutgoingChannel,
)
from sagicc_tui.store import TicketStore
from sagicc_tui.store.models import OutboxItem

log = logging.getLogger(__name__)

# Seconds before the first retry of a failed send. The delay doubles per
# attempt up to RETRY_CAP. Each delay is scaled by a random 50-100 %, so
# messages that failed together in one outage do not retry in lockstep.
RETRY_BASE = 30.0
RETRY_CAP = 3600.0

# How often the worker looks for due messages; consoles queue replies in the
# store, so this bounds the delay between "send" and the SMTP connection.
POLL_SECONDS = 0.5

Sender = Callable[
    [SmtpEndpoint, SmtpCredentials, str, Sequence[str], bytes], Awaitable[str]
]


def smtp_endpoint(channel: OutgoingChannel, timeout: float = 30.0) -> SmtpEndpoint:
    """Return where and how to reach the channel's SMTP server."""
    return SmtpEndpoint(
        host=channel.host,
        port=channel.port,
        encryption=str(channel.encryption),
        validate_certificates=channel.validate_certificates,
        username=channel.username,
        ca_file=channel.ca_file or None,
        timeout=timeout,
    )


def retry_delay(attempts: int, rng: random.Random) -> float:
    """Return seconds to wait after the ``attempts``-th failed send."""
    delay = min(RETRY_CAP, RETRY_BASE * 2 ** max(attempts - 1, 0))
    return delay * rng.uniform(0.5, 1.0)


def incoming_for(config: Config, outgoing_name: str) -> IncomingChannel | None:
    """Return the incoming channel whose replies go out through ``outgoing_name``."""
    for channel in config.incoming:
        if channel.outgoing_channel == outgoing_name:
            return channel
    return None


class OutboxWorker:
    """Sends what consoles queued in the store through each outgoing channel.

    Only the engine holding the store's engine lock runs a worker. A message
    stays in the outbox, visible to consoles, until it is sent or an
    operator cancels it: transient failures retry with backoff, permanent
    ones (a rejected sign-in or recipient) wait for an operator.
    """

    def __init__(
        self,
        store: TicketStore,
        config: Config,
        secrets: SecretStore,
        *,
        tokens: TokenProvider | None = None,
        clock: Clock | None = None,
        sender: Sender = send_message,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.secrets = secrets
        self.tokens = tokens
        self.clock = clock or SystemClock()
        self._send = sender
        self._rng = rng or random.Random()
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Send due messages until ``stop`` is called."""
        self.store.requeue_interrupted(now=self.clock.now())
        while not self._stop.is_set():
            try:
                await self.send_due()
            except Exception:
                # A bug or a store error must not end sending for good; the
                # messages stay in the outbox and the next round tries again.
                log.exception("the outbox worker failed; retrying")
            await self._pause()

    async def _pause(self) -> None:
        """Sleep ``POLL_SECONDS`` on the clock, or less when ``stop`` is called."""
        sleeper = asyncio.ensure_future(self.clock.sleep(POLL_SECONDS))
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()

    def stop(self) -> None:
        self._stop.set()

    async def send_due(self) -> int:
        """Send every message that is due now; return how many were sent."""
        sent = 0
        for item in self.store.claim_outgoing(now=self.clock.now()):
            if await self._deliver(item):
                sent += 1
        return sent

    def _channel(self, name: str) -> OutgoingChannel | None:
        for channel in self.config.outgoing:
            if channel.name == name:
                return channel
        return None

    async def _deliver(self, item: OutboxItem) -> bool:
        channel = self._channel(item.channel)
        if channel is None:
            self._fail(
                item,
                SendError(
                    f"outgoing channel {item.channel!r} is not configured; add it "
                    "or cancel this message",
                    permanent=True,
                ),
            )
            return False
        try:
            credentials = await self._credentials(channel)
            await self._send(
                smtp_endpoint(channel),
                credentials,
                item.mail_from,
                item.rcpt_to,
                item.raw,
            )
        except SendError as error:
            self._fail(item, error)
            return False
        except ChannelError as error:
            self._fail(item, SendError(str(error), permanent=not error.retryable))
            return False
        except SecretStoreError as error:
            # A locked keyring or a damaged secrets file can be fixed while
            # the message waits, so it retries.
            self._fail(item, SendError(str(error)))
            return False
        except Exception as error:  # noqa: BLE001 - recorded on the message
            # Anything else left the claimed message in "sending", where no
            # operator saw it and nothing retried it until a restart. It may
            # have reached the server, so an operator decides about a retry.
            log.exception("sending outbox message %s failed unexpectedly", item.id)
            self._fail(item, SendError(f"sending failed: {error!r}", permanent=True))
            return False

        self.store.mark_sent(item.id, now=self.clock.now())
        log.info("sent outbox message %s <%s>", item.id, item.message_id)
        if channel.save_to_sent:
            await self._save_copy(channel, item)
        return True

    def _fail(self, item: OutboxItem, error: SendError) -> None:
        retry_at = None
        if not error.permanent:
            delay = retry_delay(item.attempts, self._rng)
            retry_at = self.clock.now() + timedelta(seconds=delay)
        log.warning(
            "sending outbox message %s <%s> failed (attempt %s, %s): %s",
            item.id,
            item.message_id,
            item.attempts,
            "retrying" if retry_at else "waiting for an operator",
            error,
        )
        self.store.mark_failed(
            item.id, str(error), retry_at=retry_at, now=self.clock.now()
        )

    async def _credentials(self, channel: OutgoingChannel) -> SmtpCredentials:
        if channel.auth == AuthMethod.OAUTH:
            if self.tokens is None:
                raise SendError(
                    f"channel {channel.name!r} signs in with OAuth but no token "
                    "provider is set up; sign in from the channel screen",
                    permanent=True,
                )
            tokens = self.tokens

            async def token() -> str:
                return await tokens.access_token(channel)

            return SmtpCredentials(token_provider=token)
        if not channel.username:
            return SmtpCredentials()
        password = self.secrets.get(secret_key(channel.name, PASSWORD))
        if password is None:
            raise SendError(
                f"no password is stored for outgoing channel {channel.name!r}; "
                "set one with: sagicc channels edit "
                f"{shlex.quote(channel.name)} --set-secret",
                permanent=True,
            )
        return SmtpCredentials(password=password)

    async def _save_copy(self, channel: OutgoingChannel, item: OutboxItem) -> None:
        """Append the sent message to the Sent folder of the matching mailbox.

        A failure is logged and leaves the message sent: the customer has it,
        and sending it again to get a copy would be worse than a missing copy.
        """
        incoming = incoming_for(self.config, channel.name)
        if incoming is None:
            return
        tokens = self.tokens or StoredTokenProvider(self.secrets)
        client = ImapClient(imap_endpoint(incoming))
        try:
            await client.connect()
            await sign_in(client, incoming, self.secrets, tokens)
            await self._append_sent(client, channel.sent_folder, item.raw)
        except ChannelError as error:
            log.warning(
                "saving a copy of outbox message %s to %r failed: %s",
                item.id,
                channel.sent_folder,
                error,
            )
        finally:
            await client.logout()

    async def _append_sent(self, client: ImapClient, folder: str, raw: bytes) -> None:
        try:
            await client.append(raw, folder, r"(\Seen)")
        except CommandFailed as error:
            # RFC 3501: NO [TRYCREATE] means the folder is missing and the
            # client may create it and try again.
            if "TRYCREATE" not in error.server_text.upper():
                raise
            log.info("creating the missing Sent folder %r", folder)
            await client.create_folder(folder)
            await client.append(raw, folder, r"(\Seen)")
