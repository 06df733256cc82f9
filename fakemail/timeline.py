"""The scenario timeline: timed steps on the mailstore, the servers and the replayer."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from fakemail.clock import Clock
from fakemail.faults import FaultAction, FaultPlan, FaultRule
from fakemail.mailstore import MailStore, Message
from fakemail.responders import Responders
from fakemail.scenario import (
    TimelineEvent,
    header_value,
    message_date,
    replace_date,
)

log = logging.getLogger(__name__)

_FAULT_ACTIONS = {
    "delay": FaultAction.DELAY,
    "no": FaultAction.NO,
    "bad": FaultAction.BAD,
    "bye": FaultAction.BYE,
    "drop": FaultAction.DROP,
    "cut-literal": FaultAction.CUT_LITERAL,
}


@dataclass(frozen=True)
class OperatorReplyRequested:
    """A step the replayer runs: reply ``body`` to the ticket holding ``message``.

    ``message_id`` is the Message-ID of that message; ``name`` is how
    expectations refer to the reply the product sends.
    """

    name: str
    message: str
    message_id: str | None
    body: str
    at: float


@dataclass
class NamedMessage:
    """A delivered message and its name; ``message.uid`` follows UIDVALIDITY resets."""

    name: str
    user: str
    folder: str
    message: Message
    message_id: str | None


class MessageIndex:
    """Message names of a run, mapped to the messages the mailstore holds."""

    def __init__(self, mailstore: MailStore) -> None:
        self.mailstore = mailstore
        self._by_name: dict[str, NamedMessage] = {}
        # Set by FakeMail for a scenario with ``redate``: the current time,
        # and the shift that moves the preloaded folders up to it.
        self.redate_clock: Callable[[], datetime.datetime] | None = None
        self.redate_shift = datetime.timedelta(0)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> NamedMessage:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no message named {name!r} has been delivered") from None

    def names(self) -> list[str]:
        return list(self._by_name)

    def message_id(self, name: str) -> str | None:
        return self.get(name).message_id

    def clear(self) -> None:
        self._by_name.clear()

    def _redate(self, raw: bytes, preloaded: bool) -> tuple[bytes, datetime.datetime]:
        assert self.redate_clock is not None
        when = self.redate_clock()
        original = message_date(raw)
        if preloaded and original is not None:
            when = original + self.redate_shift
        return replace_date(raw, when), when

    def deliver(
        self,
        name: str,
        user: str,
        folder: str,
        raw: bytes,
        flags: tuple[str, ...] = (),
        internaldate: datetime.datetime | None = None,
        *,
        preloaded: bool = False,
    ) -> int:
        """Deliver ``raw`` under ``name``; the internal date defaults to its Date.

        With ``preloaded`` (a scenario's folders, before the run starts) a
        redated message keeps its distance to the others; any other delivery
        is dated now.
        """
        if self.redate_clock is not None:
            raw, internaldate = self._redate(raw, preloaded)
        if not self.mailstore.has_folder(user, folder):
            self.mailstore.create_folder(user, folder, exist_ok=True)
        uid = self.mailstore.deliver(
            user, folder, raw, flags, internaldate or message_date(raw)
        )
        stored = self.mailstore.folder(user, folder).find(uid)
        assert stored is not None
        message_id = header_value(raw, "Message-ID")
        self._by_name[name] = NamedMessage(name, user, folder, stored, message_id)
        return uid


@dataclass
class FiredStep:
    """A timeline step that ran, when it ran, and the error it raised, if any."""

    event: TimelineEvent
    at: float
    error: str | None = None


@dataclass
class Timeline:
    """Runner for the steps of a scenario, in order, on the scenario clock."""

    events: tuple[TimelineEvent, ...]
    clock: Clock
    messages: MessageIndex
    faults: dict[str, FaultPlan]
    drop_connections: Callable[[str | None], None]
    responders: Responders
    operator_replies: Callable[[OperatorReplyRequested], None]
    default_fault_listeners: tuple[str, ...] = ()
    fired: list[FiredStep] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    @property
    def done(self) -> bool:
        return self._task is not None and self._task.done()

    async def run(self) -> None:
        """Run every step at its time; a failing step is logged and the run goes on."""
        for event in self.events:
            await self.clock.sleep_until(event.at)
            step = FiredStep(event, self.clock.now())
            try:
                self.apply(event)
            except Exception as error:  # noqa: BLE001 - one bad step must not stop the rest
                step.error = f"{type(error).__name__}: {error}"
                log.error(
                    "timeline step %s at %g s failed: %s", event.action, event.at, error
                )
            self.fired.append(step)

    def apply(self, event: TimelineEvent) -> None:
        """Run one step now."""
        log.info("timeline step %s at %g s", event.action, self.clock.now())
        if event.action == "deliver":
            assert event.file is not None
            assert event.name is not None
            assert event.account is not None
            assert event.folder is not None
            self.messages.deliver(
                event.name,
                event.account,
                event.folder,
                event.file.read_bytes(),
                event.flags,
                event.internaldate or self._now_date(),
            )
        elif event.action == "set-flags":
            target = self.messages.get(str(event.message))
            self.messages.mailstore.store_flags(
                target.user,
                target.folder,
                [target.message.uid],
                event.flags,
                event.mode,
            )
        elif event.action == "expunge":
            target = self.messages.get(str(event.message))
            self.messages.mailstore.expunge(
                target.user, target.folder, [target.message.uid]
            )
        elif event.action == "change-uidvalidity":
            assert event.account and event.folder
            self.messages.mailstore.reset_uidvalidity(event.account, event.folder)
        elif event.action == "drop-connections":
            self.drop_connections(event.listener)
        elif event.action == "operator-reply":
            self._request_reply(event)
        elif event.action == "responder":
            self.responders.fire(str(event.responder))
        else:
            self._arm_fault(event)

    def _request_reply(self, event: TimelineEvent) -> None:
        target = str(event.message)
        message_id = (
            self.messages.message_id(target) if target in self.messages else None
        )
        request = OperatorReplyRequested(
            name=str(event.name),
            message=target,
            message_id=message_id,
            body=str(event.body),
            at=self.clock.now(),
        )
        self.operator_replies(request)

    def _arm_fault(self, event: TimelineEvent) -> None:
        assert event.command is not None
        names = [event.listener] if event.listener else self.default_fault_listeners
        plans = [self.faults[name] for name in names]
        for plan in plans:
            options = {"text": event.text} if event.text is not None else {}
            rule = FaultRule(
                command=event.command,
                action=_FAULT_ACTIONS[event.action],
                seconds=event.seconds,
                nth=event.nth,
                times=event.times,
                **options,
            )
            plan.add(rule)

    def _now_date(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock.wall_time(), datetime.UTC)
