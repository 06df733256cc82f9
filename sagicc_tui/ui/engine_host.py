"""Run the engine and the outbox worker on a background event loop.

The console's own event loop draws the screen. The engine's network and
SQLite work runs on a second loop in a thread, so a large sync does not
hold up key presses (both still share the GIL).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from sagicc_tui.paths import Paths
from sagicc_tui.settings import Config, SecretStore
from sagicc_tui.store import TicketStore, acquire_engine_lock

log = logging.getLogger(__name__)

T = TypeVar("T")
STOP_SECONDS = 20.0


class BackgroundLoop:
    """An asyncio loop in a daemon thread; ``submit`` runs coroutines on it."""

    def __init__(self, name: str = "sagicc-engine") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> BackgroundLoop:
        self.thread.start()
        return self

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self) -> None:
        """Stop the loop and wait for its thread."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(STOP_SECONDS)
        if not self.thread.is_alive():
            self.loop.close()


def engine_lock_free(paths: Paths) -> bool:
    """Return whether no other process runs the engine on this store now."""
    lock = acquire_engine_lock(paths)
    if lock is None:
        return False
    lock.release()
    return True


class EngineHost:
    """The in-process engine of a console that found no engine running."""

    def __init__(
        self,
        background: BackgroundLoop,
        paths: Paths,
        config: Config,
        secrets: SecretStore,
        *,
        ca_file: str | None = None,
    ) -> None:
        self.background = background
        self.paths = paths
        self.config = config
        self.secrets = secrets
        self.ca_file = ca_file
        self.future: Future[None] | None = None
        self._stop_event: asyncio.Event | None = None
        self._problem: str | None = None

    def problem(self) -> str | None:
        """Return why the engine stopped on its own, or None while it runs."""
        return self._problem

    def start(self) -> bool:
        """Start syncing and sending; False when another engine runs already.

        NOTE: another process could start an engine between this check and
        the engine taking its lock. One of the two then stops with an error
        in the log. Nothing is sent twice, because only the lock holder
        claims outbox messages.
        """
        if not engine_lock_free(self.paths):
            log.info("another engine runs on %s; attaching only", self.paths.store_file)
            return False
        start_process_helpers()
        self.future = self.background.submit(self._run())
        return True

    async def _run(self) -> None:
        from sagicc_tui.engine.config_watch import watch_config
        from sagicc_tui.engine.replies import message_id_key
        from sagicc_tui.engine.runner import Engine

        self._stop_event = asyncio.Event()
        try:
            store = TicketStore.open(self.paths.store_file)
        except Exception as error:
            log.error("engine could not open the store: %s", error, exc_info=error)
            self._problem = f"the engine could not open the store: {error}"
            return
        # The engine runs the outbox worker itself, and signs with the same
        # store-wide key the console's replies use.
        engine = Engine(
            self.config,
            store,
            self.secrets,
            ca_file=self.ca_file,
            message_id_key=message_id_key(self.secrets),
        )
        engine_task = asyncio.create_task(engine.run(), name="engine")
        # Channels added or edited in any console reach this engine too.
        watcher = asyncio.create_task(watch_config(engine, self.paths))
        try:
            stop_wait = asyncio.create_task(self._stop_event.wait())
            await asyncio.wait(
                [engine_task, stop_wait], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            watcher.cancel()
            await engine.stop()
            results = await asyncio.gather(engine_task, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    log.error("engine task failed: %s", result, exc_info=result)
                    self._problem = f"the engine stopped: {result}"
            store.close()

    def stop(self) -> None:
        """Ask the engine to log out and wait for it to finish."""
        if self.future is None or self._stop_event is None:
            return
        self.background.loop.call_soon_threadsafe(self._stop_event.set)
        try:
            self.future.result(STOP_SECONDS)
        except Exception as error:  # already logged by _run; keep shutting down
            log.error("engine did not stop cleanly: %s", error)


def start_process_helpers() -> None:
    """Start multiprocessing's helper processes while stdio is still real.

    Call this before the console runs. Textual replaces ``sys.stderr`` with
    an object whose ``fileno()`` is -1 (textual 8.2, ``app.py``), and
    CPython 3.11's resource tracker passes that descriptor to its child,
    which fails with "bad value(s) in fds_to_keep". Started first, the
    helpers already exist when the engine opens its parsing processes.
    """
    import multiprocessing
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()
    if "forkserver" in multiprocessing.get_all_start_methods():
        forkserver.ensure_running()
