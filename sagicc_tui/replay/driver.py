"""Run a scenario: fakemail, the engine and the operator reply path, on one timeline.

By default both clocks are stepped. The driver waits until the engine has
caught up with the mailbox and nothing changes any more. Then it moves
fakemail's clock and the engine's clock together to the next moment that
either of them waits for. A timeline of minutes then replays in seconds. With a
speed, both clocks instead run that many times faster than real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fakemail.clock import Clock as FakeClock
from fakemail.clock import RealClock, SteppedClock
from fakemail.scenario import Scenario
from fakemail.server import FakeMail
from fakemail.timeline import OperatorReplyRequested
from fakemail.tls import TLSMaterials
from sagicc_tui.engine.acks import ChangeLogAcknowledger
from sagicc_tui.engine.clock import Clock, ManualClock
from sagicc_tui.engine.outbox import OutboxWorker
from sagicc_tui.engine.replies import ReplyError, message_id_key, queue_reply
from sagicc_tui.engine.runner import Engine
from sagicc_tui.logs import setup_logging
from sagicc_tui.mail.parse import parse_message
from sagicc_tui.paths import Paths
from sagicc_tui.replay.clocks import ScaledClock
from sagicc_tui.replay.environment import (
    build_channels,
    sagicc_home,
    write_environment,
)
from sagicc_tui.replay.snapshot import RunSnapshot, take_snapshot
from sagicc_tui.settings import Config, SecretStore
from sagicc_tui.store import ChannelStateName, OutboxItem, OutboxState, TicketStore

log = logging.getLogger(__name__)

# States in which a channel waits on its clock or for mail, not on a server.
_WAITING = {
    ChannelStateName.IDLE,
    ChannelStateName.FAILED,
    ChannelStateName.SIGN_IN_NEEDED,
    ChannelStateName.BACKING_OFF,
}

# Real seconds between two looks at the store while waiting for quiet.
_POLL = 0.02

# Real seconds one settle may take before the driver moves time anyway. A
# server configured to delay a command waits on the stepped clock, so
# without this bound such a scenario could never advance.
_SETTLE_BOUND = 5.0

# Real seconds the engine gets to log out and stop.
_STOP_TIMEOUT = 15.0

# Real seconds per IMAP or SMTP step before the engine gives up on it.
_COMMAND_TIMEOUT = 10.0

# A scenario that keeps rescheduling work at the same instant would loop.
_MAX_STEPS = 10_000


class ReplayError(RuntimeError):
    """A replay that could not run; the text names the scenario and the cause."""


@dataclass
class ReplayOptions:
    """How to run: stepped (``speed`` None) or ``speed`` times real time.

    ``quiet`` is the real time in seconds during which nothing may change
    before the driver moves the stepped clocks on. ``folder`` keeps each
    run's SAGICC_HOME there instead of in a temporary folder that is
    deleted afterwards.
    """

    speed: float | None = None
    quiet: float = 0.1
    folder: Path | None = None
    operator: str = "replay"
    # Send the product's log to each run's log folder (what the CLI does).
    log_to_home: bool = False


@dataclass
class _Context:
    scenario: Scenario
    server: FakeMail
    config: Config
    secrets: SecretStore
    store: TicketStore
    engine: Engine
    worker: OutboxWorker
    key: bytes
    epoch: float
    acks: ChangeLogAcknowledger
    replies: dict[str, OutboxItem] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    requests: list[OperatorReplyRequested] = field(default_factory=list)


async def replay_scenario(
    scenario: Scenario, modes: list[str | None], options: ReplayOptions
) -> list[RunSnapshot]:
    """Run ``scenario`` once per grouping mode (None: the channels' own)."""
    folder = options.folder
    temporary = folder is None
    if folder is not None and folder.exists() and any(folder.iterdir()):
        # A second run in the same folder would find the first run's store.
        raise ReplayError(f"{folder} is not empty; give a new or empty folder")
    root = Path(tempfile.mkdtemp(prefix="sagicc-replay-")) if temporary else folder
    assert root is not None
    try:
        tls = TLSMaterials(root / "tls")
        snapshots = []
        for mode in modes:
            home = root / (mode or "channels")
            run = _Run(scenario, mode, home, tls, options)
            snapshots.append(await run.execute())
        return snapshots
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


class _Run:
    """One run of a scenario in its own SAGICC_HOME."""

    def __init__(
        self,
        scenario: Scenario,
        mode: str | None,
        home: Path,
        tls: TLSMaterials,
        options: ReplayOptions,
    ) -> None:
        self.scenario = scenario
        self.mode = mode
        self.home = home
        self.tls = tls
        self.options = options
        self.stepped = options.speed is None
        stepped = SteppedClock()
        start = datetime.fromtimestamp(stepped.epoch, UTC)
        self.fake_clock: FakeClock = stepped
        self.engine_clock: Clock = ManualClock(start)
        if options.speed is not None:
            # The same start date as a stepped run, so messages get the same dates.
            self.fake_clock = RealClock(options.speed, epoch=stepped.epoch)
            self.engine_clock = ScaledClock(options.speed, stepped.epoch)

    async def execute(self) -> RunSnapshot:
        with sagicc_home(self.home) as paths, _run_log(paths, self.options):
            server = FakeMail(
                self.scenario,
                clock=self.fake_clock,
                state_dir=self.home / "fakemail",
                tls=self.tls,
            )
            try:
                await server.start()
            except OSError as error:
                await server.stop()
                server.close()
                raise ReplayError(
                    f"{self.scenario.path}: fakemail could not start its "
                    f"listeners on 127.0.0.1: {error}"
                ) from error
            try:
                return await self._with_server(server, paths)
            finally:
                await server.stop()
                server.close()

    async def _with_server(self, server: FakeMail, paths: Paths) -> RunSnapshot:
        config = build_channels(self.scenario, server, self.mode)
        secrets = write_environment(self.scenario, server, config, paths)
        key = message_id_key(secrets)
        store = TicketStore.open(paths=paths)
        try:
            context = self._context(server, config, secrets, store, key)
            server.on_operator_reply(context.requests.append)
            task = asyncio.create_task(context.engine.run(), name="replay-engine")
            try:
                if self.stepped:
                    await self._run_stepped(context)
                else:
                    await self._run_scaled(context)
            finally:
                await context.engine.stop()
                await _finish(task)
            self._timeline_problems(context)
            return take_snapshot(
                store,
                config,
                server,
                mode=self.mode,
                replies=context.replies,
                problems=context.problems,
            )
        finally:
            store.close()

    def _context(
        self,
        server: FakeMail,
        config: Config,
        secrets: SecretStore,
        store: TicketStore,
        key: bytes,
    ) -> _Context:
        engine = Engine(
            config,
            store,
            secrets,
            clock=self.engine_clock,
            ca_file=str(server.ca_path),
            message_id_key=key,
            parse_workers=0,
            timeout=_COMMAND_TIMEOUT,
            # The driver sends and acknowledges itself, at the moments it picks.
            run_outbox=False,
            acknowledge=False,
        )
        worker = OutboxWorker(
            store, config, secrets, tokens=engine.tokens, clock=self.engine_clock
        )
        return _Context(
            scenario=self.scenario,
            server=server,
            config=config,
            secrets=secrets,
            store=store,
            engine=engine,
            worker=worker,
            key=key,
            epoch=self.fake_clock.epoch,
            acks=ChangeLogAcknowledger(store, config, key, since=0),
        )

    # Stepped run ----------------------------------------------------------

    async def _run_stepped(self, context: _Context) -> None:
        end = self.scenario.run_length()
        clock = self.fake_clock
        assert isinstance(clock, SteppedClock)
        for _ in range(_MAX_STEPS):
            await self._settle(context)
            if await self._work(context):
                continue
            due = self._next_due(context)
            if due is None or due > end:
                break
            await self._advance(max(due, clock.now()) - clock.now())
        else:
            context.problems.append(
                f"the replay stopped after {_MAX_STEPS} steps at "
                f"{clock.now():g} s: something reschedules itself without end"
            )
        await self._advance(max(0.0, end - clock.now()))
        await self._settle(context)
        await self._work(context)
        await self._settle(context)

    async def _advance(self, seconds: float) -> None:
        assert isinstance(self.fake_clock, SteppedClock)
        assert isinstance(self.engine_clock, ManualClock)
        await self.fake_clock.advance(seconds)
        await self.engine_clock.advance(seconds)

    def _next_due(self, context: _Context) -> float | None:
        """Return the scenario second at which fakemail, engine or outbox wait."""
        assert isinstance(self.fake_clock, SteppedClock)
        assert isinstance(self.engine_clock, ManualClock)
        now = self.fake_clock.now()
        candidates = [self.fake_clock.next_due()]
        engine_wait = self.engine_clock.next_deadline()
        if engine_wait is not None:
            candidates.append(now + engine_wait)
        for item in context.store.outbox(states=[OutboxState.FAILED]):
            if item.next_attempt_at is not None:
                candidates.append(item.next_attempt_at.timestamp() - context.epoch)
        present = [due for due in candidates if due is not None]
        return min(present, default=None)

    async def _settle(self, context: _Context) -> bool:
        """Wait until every channel caught up and nothing changed for ``quiet``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _SETTLE_BOUND
        last: object = None
        quiet_since = loop.time()
        while loop.time() < deadline:
            await asyncio.sleep(_POLL)
            signature = (
                context.store.change_counter(),
                len(context.server.outbox),
                tuple(channel.state for channel in context.engine.channels.values()),
            )
            now = loop.time()
            if signature != last:
                last, quiet_since = signature, now
                continue
            if now - quiet_since >= self.options.quiet and _caught_up(context):
                return True
        log.warning("replay: the engine did not settle within %g s", _SETTLE_BOUND)
        return False

    async def _work(self, context: _Context) -> bool:
        """Run operator replies, acknowledgements and due sends; True if any ran."""
        replied = self._reply(context)
        acknowledged = context.acks.acknowledge(now=self.engine_clock.now())
        sent = await context.worker.send_due()
        return bool(replied or acknowledged or sent)

    # Real-time run ----------------------------------------------------------

    async def _run_scaled(self, context: _Context) -> None:
        assert self.options.speed is not None
        loop = asyncio.get_running_loop()
        end = loop.time() + self.scenario.run_length() / self.options.speed
        worker = asyncio.create_task(context.worker.run(), name="replay-outbox")
        try:
            while loop.time() < end:
                await asyncio.sleep(_POLL)
                self._reply(context)
                context.acks.acknowledge(now=self.engine_clock.now())
            await self._settle(context)
        finally:
            context.worker.stop()
            await _finish(worker)

    # Operator replies -------------------------------------------------------

    def _reply(self, context: _Context) -> int:
        requests, context.requests[:] = list(context.requests), []
        for request in requests:
            try:
                context.replies[request.name] = self._queue_reply(context, request)
            except (ReplyError, ValueError, LookupError) as error:
                context.problems.append(
                    f"operator reply {request.name!r} at {request.at:g} s failed: "
                    f"{error}"
                )
        return len(requests)

    def _queue_reply(
        self, context: _Context, request: OperatorReplyRequested
    ) -> OutboxItem:
        named = context.server.messages.get(request.message)
        message_id = parse_message(named.message.raw, with_body=False).message_id
        for channel in context.config.incoming:
            stored = context.store.find_message(channel.name, message_id)
            if stored is not None and stored.ticket_id is not None:
                return queue_reply(
                    context.store,
                    context.config,
                    context.key,
                    ticket_id=stored.ticket_id,
                    body=request.body,
                    who=self.options.operator,
                    in_reply_to_message_row=stored.id,
                    now=self.engine_clock.now(),
                )
        raise ReplyError(
            f"message {request.message!r} <{message_id}> not found in any ticket "
            "of the store; check the state of the channel that reads it"
        )

    def _timeline_problems(self, context: _Context) -> None:
        for step in context.server.timeline.fired:
            if step.error:
                context.problems.append(
                    f"timeline step {step.event.action!r} at {step.event.at:g} s "
                    f"failed: {step.error}"
                )


@contextlib.contextmanager
def _run_log(paths: Paths, options: ReplayOptions) -> Iterator[None]:
    """Log to the run's log folder while the block runs, if the options ask."""
    if not options.log_to_home:
        yield
        return
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    setup_logging(paths, capture_exceptions=False)
    try:
        yield
    finally:
        # The run's folder may be deleted next, so its log handler goes too.
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)


def _caught_up(context: _Context) -> bool:
    """Return True when every waiting channel has stored its folder up to UIDNEXT."""
    mailstore = context.server.mailstore
    for name, channel in context.engine.channels.items():
        if channel.state not in _WAITING:
            return False
        if channel.state is not ChannelStateName.IDLE:
            continue
        settings = channel.channel
        if not mailstore.has_folder(settings.username, settings.folder):
            continue
        folder = mailstore.folder(settings.username, settings.folder)
        cursor = context.store.get_cursor(name, settings.folder)
        if cursor is None or cursor.uidvalidity != folder.uidvalidity:
            return False
        if cursor.last_uid < folder.uidnext - 1:
            return False
    return True


async def _finish(task: asyncio.Task[None]) -> None:
    try:
        await asyncio.wait_for(task, _STOP_TIMEOUT)
    except TimeoutError:
        log.warning("replay: %s did not stop in time", task.get_name())
