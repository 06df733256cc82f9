"""One incoming channel kept in sync: connect, import, IDLE or poll, back off."""

from __future__ import annotations

import asyncio
import logging
import random
import shlex
from collections.abc import Awaitable
from concurrent.futures import Executor
from datetime import timedelta

from sagicc_tui.engine.backoff import Backoff
from sagicc_tui.engine.clock import Clock, SystemClock
from sagicc_tui.engine.errors import AuthenticationFailed, ChannelError, SignInNeeded
from sagicc_tui.engine.folder_sync import FolderSync, PassResult
from sagicc_tui.engine.imap import ImapClient, ImapEndpoint
from sagicc_tui.engine.tokens import TokenProvider
from sagicc_tui.settings import PASSWORD, SecretStore, SecretStoreError, secret_key
from sagicc_tui.settings.models import AuthMethod, IncomingChannel
from sagicc_tui.store import ChannelStateName, TicketStore
from sagicc_tui.store.ingest import IngestParams

log = logging.getLogger(__name__)

# Servers may end an IDLE after 30 minutes of silence (RFC 2177), so the
# engine ends and re-issues it before that.
IDLE_RENEW_SECONDS = 25 * 60

# A channel in ``failed`` (wrong password, invalid certificate) tries again
# this often, so a fixed server recovers without a restart.
FAILED_RETRY_SECONDS = 30 * 60

# Seconds each IMAP step may take before the connection counts as dead.
COMMAND_TIMEOUT = 30.0


def imap_endpoint(
    channel: IncomingChannel,
    *,
    ca_file: str | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> ImapEndpoint:
    """Return how to reach the channel's IMAP server.

    The channel's own CA file comes first; ``ca_file`` (the engine's, for
    self-hosted servers and tests) is used when the channel sets none.
    """
    return ImapEndpoint(
        channel.host,
        channel.port,
        str(channel.encryption),
        validate_certificates=channel.validate_certificates,
        ca_file=channel.ca_file or ca_file or None,
        timeout=timeout,
    )


async def sign_in(
    client: ImapClient,
    channel: IncomingChannel,
    secrets: SecretStore,
    tokens: TokenProvider,
) -> None:
    """Sign in with the channel's OAuth token or its stored password.

    Raises AuthenticationFailed when the password is missing or unreadable,
    and never falls back from OAuth to a password.
    """
    if channel.auth is AuthMethod.OAUTH:
        token = await tokens.access_token(channel)
        await client.login_xoauth2(channel.username, token)
        return

    try:
        password = secrets.get(secret_key(channel.name, PASSWORD))
    except SecretStoreError as error:
        raise AuthenticationFailed(
            f"the password of channel {channel.name!r} cannot be read: {error}",
            host=channel.host,
            port=channel.port,
            fix="Check the secret store (keyring or the secrets folder)",
        ) from error
    if password is None:
        raise AuthenticationFailed(
            f"no password is stored for channel {channel.name!r}",
            host=channel.host,
            port=channel.port,
            fix=f"Set it with: sagicc channels edit {shlex.quote(channel.name)} "
            "--set-secret",
        )
    await client.login(channel.username, password)


class ChannelSync:
    """Runs one incoming channel until stopped, recording its state in the store.

    States: ``connecting``, ``syncing`` (with progress), ``idle``,
    ``backing-off`` (until a time), ``failed`` (with the error) and
    ``sign-in-needed``. Failures that reconnecting can fix back off
    exponentially with jitter; the others wait ``FAILED_RETRY_SECONDS``.
    """

    def __init__(
        self,
        channel: IncomingChannel,
        store: TicketStore,
        secrets: SecretStore,
        params: IngestParams,
        *,
        tokens: TokenProvider,
        clock: Clock | None = None,
        ca_file: str | None = None,
        executor: Executor | None = None,
        rng: random.Random | None = None,
        timeout: float = COMMAND_TIMEOUT,
        stored_event: asyncio.Event | None = None,
    ) -> None:
        self.channel = channel
        self.store = store
        self.secrets = secrets
        self.tokens = tokens
        self.clock = clock or SystemClock()
        self.ca_file = ca_file
        self.timeout = timeout
        self.backoff = Backoff(rng=rng or random.Random())
        self.state = ChannelStateName.CONNECTING
        self.last_error: ChannelError | None = None
        # Set after a pass stored new mail; the engine's body pass waits on it.
        self.stored_event = stored_event or asyncio.Event()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._folder = FolderSync(
            channel,
            store,
            params,
            clock=self.clock,
            executor=executor,
            on_progress=self._progress,
            stopping=self._stop.is_set,
        )

    @property
    def name(self) -> str:
        return self.channel.name

    # Public control -----------------------------------------------------------

    async def run(self) -> None:
        """Keep the channel in sync until ``stop``; never raises a ChannelError."""
        while not self._stop.is_set():
            try:
                await self._session()
            except SignInNeeded as error:
                self._record_error(ChannelStateName.SIGN_IN_NEEDED, error, None)
                await self._pause(None)
            except ChannelError as error:
                if error.retryable:
                    delay = self.backoff.next_delay()
                    self._record_error(ChannelStateName.BACKING_OFF, error, delay)
                    await self._pause(delay)
                else:
                    self._record_error(
                        ChannelStateName.FAILED, error, FAILED_RETRY_SECONDS
                    )
                    await self._pause(FAILED_RETRY_SECONDS)
            except Exception as error:
                # A bug must not end the channel for good: log it and retry.
                log.exception("channel %s: unexpected error", self.name)
                delay = self.backoff.next_delay()
                self._set_state(
                    ChannelStateName.BACKING_OFF,
                    until=self.clock.now() + timedelta(seconds=delay),
                    error=f"internal error: {error!r}",
                )
                await self._pause(delay)

    def stop(self) -> None:
        """Ask ``run`` to log out and return."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """End a backoff or failed wait now (an operator pressed retry)."""
        self._wake.set()

    async def sync_once(self) -> PassResult:
        """Connect, import what is new, apply after-import, log out.

        Raises the ChannelError that stopped it, after recording the state.
        """
        client: ImapClient | None = None
        try:
            self._set_state(ChannelStateName.CONNECTING)
            client = await self.connect()
            status = await client.select(self.channel.folder)
            self._set_state(ChannelStateName.SYNCING, progress=(0, 0))
            result = await self._folder.run_pass(client, status)
        except SignInNeeded as error:
            self._record_error(ChannelStateName.SIGN_IN_NEEDED, error, None)
            raise
        except ChannelError as error:
            self._record_error(ChannelStateName.FAILED, error, None)
            raise
        finally:
            if client is not None:
                await client.logout()
        self._after_pass(result)
        self._set_state(ChannelStateName.IDLE, detail="synced once")
        return result

    async def connect(self) -> ImapClient:
        """Open a signed-in connection to the channel's server."""
        endpoint = imap_endpoint(
            self.channel, ca_file=self.ca_file, timeout=self.timeout
        )
        client = ImapClient(endpoint)
        await client.connect()
        try:
            await sign_in(client, self.channel, self.secrets, self.tokens)
            await client.enable_utf8()
        except BaseException:
            client.abort()
            raise
        return client

    # Session ------------------------------------------------------------------

    async def _session(self) -> None:
        self._set_state(ChannelStateName.CONNECTING)
        client = await self.connect()
        try:
            status = await client.select(self.channel.folder)
            while not self._stop.is_set():
                if client.protocol.uidvalidity_changed:
                    status = await client.select(self.channel.folder)
                client.mailbox_changed.clear()
                result = await self._folder.run_pass(client, status)
                self.backoff.reset()
                self._after_pass(result)
                self._set_state(ChannelStateName.IDLE)
                await self._wait_for_mail(client)
        finally:
            if self._stop.is_set():
                await client.logout()
            else:
                client.abort()

    async def _wait_for_mail(self, client: ImapClient) -> None:
        """Return when the folder changed, IDLE needs renewing, or on stop."""
        lost = client.protocol.lost
        if "IDLE" in client.capabilities:
            await client.idle_start()
            await _first_of(
                client.mailbox_changed.wait(),
                self.clock.sleep(IDLE_RENEW_SECONDS),
                self._stop.wait(),
                lost,
            )
            await client.idle_done()
            return

        await _first_of(
            client.mailbox_changed.wait(),
            self.clock.sleep(self.channel.poll_interval),
            self._stop.wait(),
            lost,
        )
        if not self._stop.is_set():
            # NOOP raises when the connection dropped meanwhile.
            await client.noop()

    # State ----------------------------------------------------------------

    def _after_pass(self, result: PassResult) -> None:
        if result.stored:
            self.stored_event.set()
        if result.uids:
            log.info(
                "channel %s: %d new message(s) stored, %d already known",
                self.name,
                result.stored,
                result.duplicates,
            )

    def _progress(self, done: int, total: int) -> None:
        self._set_state(ChannelStateName.SYNCING, progress=(done, total))

    def _record_error(
        self, state: ChannelStateName, error: ChannelError, delay: float | None
    ) -> None:
        self.last_error = error
        until = None if delay is None else self.clock.now() + timedelta(seconds=delay)
        if delay is None:
            log.error("channel %s: %s: %s", self.name, state, error)
        else:
            log.warning("channel %s: %s for %.0f s: %s", self.name, state, delay, error)
        self._set_state(state, until=until, error=str(error))

    def _set_state(self, state: ChannelStateName, **fields: object) -> None:
        self.state = state
        self.store.set_channel_state(self.name, state, now=self.clock.now(), **fields)

    async def _pause(self, seconds: float | None) -> None:
        """Wait ``seconds`` (None: until woken), or less when woken or stopped."""
        self._wake.clear()
        waits: list[Awaitable[object]] = [self._wake.wait()]
        if seconds is not None:
            waits.append(self.clock.sleep(seconds))
        await _first_of(*waits)


async def _first_of(*awaitables: Awaitable[object]) -> None:
    """Wait until one awaitable finishes, then cancel the coroutines started here.

    Futures passed in (such as the connection's ``lost``) are left alone.
    """
    started = [
        asyncio.ensure_future(item)
        for item in awaitables
        if not isinstance(item, asyncio.Future)
    ]
    given = [item for item in awaitables if isinstance(item, asyncio.Future)]
    try:
        await asyncio.wait([*started, *given], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in started:
            task.cancel()
