"""Scenario clocks: real time at a speed factor, or stepped by a test."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

# How many times ``SteppedClock.advance`` yields to the event loop after waking
# a sleeper, so that the woken task can finish its in-memory step (deliver a
# message, fire a responder) and go back to sleep before time moves on.
_SETTLE_ROUNDS = 20


class Clock(Protocol):
    """Interface of the clocks that the timeline, responders and faults use."""

    epoch: float

    def now(self) -> float:
        """Return the scenario time in seconds since the scenario started."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of scenario time."""
        ...

    async def sleep_until(self, at: float) -> None:
        """Wait until the scenario time reaches ``at`` seconds."""
        ...

    def wall_time(self) -> float:
        """Return the Unix time matching ``now()``, for dates in messages."""
        ...

    def reset(self) -> None:
        """Go back to scenario second 0."""
        ...


class RealClock:
    """Scenario time that runs ``speed`` times faster than the monotonic clock."""

    def __init__(self, speed: float = 1.0, *, epoch: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"invalid clock speed {speed!r}: use a number above 0")
        self.speed = speed
        self.epoch = time.time() if epoch is None else epoch
        self._started = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._started) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    async def sleep_until(self, at: float) -> None:
        await self.sleep(at - self.now())

    def wall_time(self) -> float:
        return self.epoch + self.now()

    def reset(self) -> None:
        self.epoch += self.now()
        self._started = time.monotonic()


class SteppedClock:
    """Scenario time that only moves when a test calls ``advance``.

    Sleepers wake in order of their due time, ties in the order they went to
    sleep, and ``now()`` reads each sleeper's due time while it runs.
    """

    def __init__(self, start: float = 0.0, *, epoch: float = 1_767_225_600.0) -> None:
        # The default epoch is 2026-01-01T00:00:00Z, so stepped runs write the
        # same dates into messages every time.
        self.epoch = epoch
        self._start = start
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def wall_time(self) -> float:
        return self.epoch + self._now

    def reset(self) -> None:
        """Go back to the start time; sleepers still waiting are cancelled."""
        for _, _, future in self._sleepers:
            future.cancel()
        self._sleepers.clear()
        self._now = self._start

    @property
    def pending(self) -> int:
        """The number of sleepers still waiting."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def next_due(self) -> float | None:
        """Return the earliest time a sleeper waits for, or None when none waits."""
        live = [due for due, _, future in self._sleepers if not future.done()]
        return min(live, default=None)

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + max(0.0, seconds))

    async def sleep_until(self, at: float) -> None:
        if at <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (at, next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking every sleeper due on the way."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock back: advance({seconds!r})")
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            due, _, future = heapq.heappop(self._sleepers)
            if future.done():
                continue
            self._now = max(self._now, due)
            future.set_result(None)
            await _settle()
        self._now = target
        await _settle()

    async def run_until(self, at: float) -> None:
        """Advance to the scenario time ``at``."""
        await self.advance(max(0.0, at - self._now))


async def _settle() -> None:
    for _ in range(_SETTLE_ROUNDS):
        await asyncio.sleep(0)
