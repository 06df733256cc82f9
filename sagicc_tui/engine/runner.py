"""The engine: every incoming channel of a store, run by one process at a time."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
from concurrent.futures import Executor, ProcessPoolExecutor

from sagicc_tui.engine.acks import ChangeLogAcknowledger
from sagicc_tui.engine.clock import Clock, SystemClock
from sagicc_tui.engine.errors import ChannelError
from sagicc_tui.engine.folder_sync import PassResult
from sagicc_tui.engine.outbox import OutboxWorker
from sagicc_tui.engine.parsing import warm_up
from sagicc_tui.engine.sync import ChannelSync
from sagicc_tui.engine.tokens import StoredTokenProvider, TokenProvider
from sagicc_tui.settings import Config, SecretStore
from sagicc_tui.settings.models import IncomingChannel
from sagicc_tui.store import (
    ChannelStateName,
    EngineLock,
    TicketStore,
    acquire_engine_lock,
)
from sagicc_tui.store.bodies import index_pending_bodies
from sagicc_tui.store.ingest import IngestParams
from sagicc_tui.store.lock import engine_lock_path

log = logging.getLogger(__name__)

# Parsing processes for large first syncs and the body pass. Two already
# keep the event loop free; more mostly compete with SQLite for the cores.
MAX_PARSE_WORKERS = 2

# Messages per body-pass transaction.
BODY_BATCH = 500

# Seconds between trims of the store's change log, which consoles poll.
PRUNE_SECONDS = 3600.0


class EngineLocked(RuntimeError):
    """Another process already runs the engine on this store."""


class Engine:
    """Runs every incoming channel of ``config`` against ``store``.

    Exactly one engine runs per store: ``run`` and ``sync_once`` take the
    store's engine lock and raise EngineLocked when another process has it,
    so a console that gets EngineLocked only attaches to the store. With
    ``run_outbox`` the engine also sends what consoles queued in the outbox,
    and with ``acknowledge`` it acknowledges new tickets on the channels that
    ask for it.
    ``parse_workers`` sets the processes that parse large batches (0: parse
    in this process). ``ca_file`` adds a trusted CA for every channel, for
    self-hosted servers and tests.
    """

    def __init__(
        self,
        config: Config,
        store: TicketStore,
        secrets: SecretStore,
        *,
        clock: Clock | None = None,
        tokens: TokenProvider | None = None,
        ca_file: str | None = None,
        message_id_key: bytes | None = None,
        parse_workers: int | None = None,
        rng: random.Random | None = None,
        timeout: float | None = None,
        run_outbox: bool = True,
        acknowledge: bool = True,
    ) -> None:
        self.config = config
        self.store = store
        self.secrets = secrets
        self.clock = clock or SystemClock()
        self.tokens = tokens or StoredTokenProvider(secrets)
        self.ca_file = ca_file
        self.message_id_key = message_id_key
        self.rng = rng or random.Random()
        self.timeout = timeout
        if parse_workers is None:
            parse_workers = min(MAX_PARSE_WORKERS, os.cpu_count() or 1)
        self.parse_workers = parse_workers
        self.channels: dict[str, ChannelSync] = {}
        self.outbox: OutboxWorker | None = None
        self._run_outbox = run_outbox
        self._acknowledge = acknowledge
        self._last_prune: float | None = None
        self.acks: ChangeLogAcknowledger | None = None
        self._executor: Executor | None = None
        self._lock: EngineLock | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._channel_tasks: dict[str, asyncio.Task[None]] = {}
        self._stored = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False

    # Lifecycle ----------------------------------------------------------------

    async def run(self) -> None:
        """Sync every incoming channel until ``stop`` is called."""
        try:
            self._start()
            self._running = True
            for channel in list(self.channels.values()):
                self._launch(channel)
            self._tasks.append(asyncio.create_task(self._index_bodies(), name="bodies"))
            if self.outbox is not None:
                self._tasks.append(
                    asyncio.create_task(self.outbox.run(), name="outbox")
                )
            log.info("engine started with %d channel(s)", len(self.channels))
            await self._stopped.wait()
        finally:
            await self._shutdown()

    async def reload(self, config: Config) -> None:
        """Apply a changed config: restart changed channels, start new ones.

        A channel restarts when its settings changed, or the ticket tag
        prefix or our sender addresses (both shape grouping) did. Removed
        channels stop. Channels in ``failed`` or ``sign-in-needed`` retry at
        once, because a password or token may have changed too.
        """
        old_config, self.config = self.config, config
        if self.outbox is not None:
            self.outbox.config = config
        if self.acks is not None:
            self.acks.config = config
        if not self._running:
            return

        shared_changed = _grouping_inputs(old_config) != _grouping_inputs(config)
        old = {channel.name: channel for channel in old_config.incoming}
        new = {channel.name: channel for channel in config.incoming}
        for name in list(self.channels):
            if name not in new or shared_changed or new[name] != old.get(name):
                await self._stop_channel(name)
        for name, channel in new.items():
            if name not in self.channels:
                self._launch(self._channel_sync(channel))
        self.retry_failed()
        log.info("engine reloaded the config: %d channel(s)", len(self.channels))

    def retry_failed(self) -> None:
        """Wake every channel in ``failed`` or ``sign-in-needed`` now."""
        for channel in self.channels.values():
            if channel.state in {
                ChannelStateName.FAILED,
                ChannelStateName.SIGN_IN_NEEDED,
            }:
                channel.wake()

    async def stop(self) -> None:
        """Ask every channel to log out, then end ``run``."""
        for channel in self.channels.values():
            channel.stop()
        if self.outbox is not None:
            self.outbox.stop()
        self._stopped.set()

    async def sync_once(
        self, *, index_bodies: bool = True
    ) -> dict[str, PassResult | ChannelError]:
        """Run one pass per channel; return each channel's result or error.

        Then, unless ``index_bodies`` is false, parse and index the bodies of
        the new messages, and send the outbox mail that is due.
        """
        results: dict[str, PassResult | ChannelError] = {}
        try:
            self._start()
            for name, channel in self.channels.items():
                try:
                    results[name] = await channel.sync_once()
                except ChannelError as error:
                    results[name] = error
            self._acknowledge_new()
            if index_bodies:
                await self._index_all_bodies()
            if self.outbox is not None:
                await self.outbox.send_due()
        finally:
            await self._shutdown()
        return results

    def wake(self, name: str) -> None:
        """Retry a backing-off or failed channel now."""
        self.channels[name].wake()

    # Internals ----------------------------------------------------------------

    def _start(self) -> None:
        self._lock = acquire_engine_lock(store_file=self.store.path)
        if self._lock is None:
            path = engine_lock_path(self.store.path)
            holder = _lock_holder(path)
            raise EngineLocked(
                f"another engine (PID {holder}) already syncs the store "
                f"{self.store.path}; this process only reads it"
            )
        if self.parse_workers > 0:
            # forkserver: workers never inherit the threads and locks of a
            # process that already runs SQLite and asyncio.
            context = multiprocessing.get_context("forkserver")
            # The fork server imports the parser once; workers fork from it.
            context.set_forkserver_preload(["sagicc_tui.engine.parsing"])
            self._executor = ProcessPoolExecutor(
                max_workers=self.parse_workers, mp_context=context
            )
            # Start the workers now, while the channels connect and sign in.
            for _ in range(self.parse_workers):
                self._executor.submit(warm_up)
        self.channels = {
            channel.name: self._channel_sync(channel)
            for channel in self.config.incoming
        }
        if self._acknowledge:
            # Tickets opened before this engine started are not acknowledged.
            self.acks = ChangeLogAcknowledger(
                self.store, self.config, self.message_id_key or self.secrets
            )
        if self._run_outbox:
            self.outbox = OutboxWorker(
                self.store,
                self.config,
                self.secrets,
                tokens=self.tokens,
                clock=self.clock,
                rng=self.rng,
            )

    def _launch(self, channel: ChannelSync) -> None:
        self.channels[channel.name] = channel
        self._channel_tasks[channel.name] = asyncio.create_task(
            channel.run(), name=f"channel {channel.name}"
        )

    async def _stop_channel(self, name: str) -> None:
        channel = self.channels.pop(name)
        task = self._channel_tasks.pop(name, None)
        channel.stop()
        if task is None:
            return
        try:
            await asyncio.wait_for(task, 30)
        except TimeoutError:
            log.warning("channel %s did not stop within 30 s; cancelled", name)

    def _channel_sync(self, channel: IncomingChannel) -> ChannelSync:
        own = [o.sender_address for o in self.config.outgoing if o.sender_address]
        params = IngestParams.from_channel(
            channel,
            tag_prefix=self.config.ticket_tag_prefix,
            message_id_key=self.message_id_key,
            own_addresses=own,
        )
        extra = {"timeout": self.timeout} if self.timeout is not None else {}
        return ChannelSync(
            channel,
            self.store,
            self.secrets,
            params,
            tokens=self.tokens,
            clock=self.clock,
            ca_file=self.ca_file,
            executor=self._executor,
            rng=self.rng,
            stored_event=self._stored,
            **extra,
        )

    async def _shutdown(self) -> None:
        self._running = False
        tasks = [*self._tasks, *self._channel_tasks.values()]
        self._tasks, self._channel_tasks = [], {}
        if tasks:
            try:
                await asyncio.wait_for(
                    asyncio.gather(*tasks, return_exceptions=True), 10
                )
            except TimeoutError:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        log.info("engine stopped")

    async def _index_bodies(self) -> None:
        """Run the body pass whenever a channel stored new mail."""
        while not self._stopped.is_set():
            stored = asyncio.ensure_future(self._stored.wait())
            stopped = asyncio.ensure_future(self._stopped.wait())
            try:
                await asyncio.wait(
                    {stored, stopped}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                stored.cancel()
                stopped.cancel()
            self._stored.clear()
            if not self._stopped.is_set():
                self._acknowledge_new()
                await self._index_all_bodies()
                self._prune_changes()

    def _prune_changes(self) -> None:
        """Trim the store's change log now and then, so it does not grow forever."""
        now = self.clock.monotonic()
        if self._last_prune is not None and now - self._last_prune < PRUNE_SECONDS:
            return
        self._last_prune = now
        try:
            removed = self.store.prune_changes()
        except Exception:
            log.exception("pruning the change log failed")
            return
        if removed:
            log.info("pruned %d old change rows", removed)

    def _acknowledge_new(self) -> None:
        if self.acks is None:
            return
        try:
            self.acks.acknowledge(now=self.clock.now())
        except Exception:
            # An acknowledgement is a courtesy: a failure must not stop sync.
            log.exception("acknowledging new tickets failed")

    async def _index_all_bodies(self) -> None:
        try:
            while await asyncio.to_thread(
                index_pending_bodies, self.store, BODY_BATCH, executor=self._executor
            ):
                pass
        except Exception:
            # Bodies stay pending and are indexed on the next pass.
            log.exception("body pass failed")


def _grouping_inputs(config: Config) -> tuple[str, frozenset[str]]:
    own = frozenset(o.sender_address for o in config.outgoing if o.sender_address)
    return config.ticket_tag_prefix, own


def _lock_holder(path: os.PathLike[str] | str) -> str:
    try:
        with open(path, encoding="ascii") as file:
            return file.read().strip() or "unknown"
    except OSError:
        return "unknown"
