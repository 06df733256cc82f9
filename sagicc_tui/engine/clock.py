"""The engine's one clock: wall time, monotonic time and sleeping, injectable.

Every engine timer (IDLE renewal, backoff, polling, token expiry) reads a
``Clock``, so tests step time with ``ManualClock`` instead of waiting.
Network timeouts inside one IMAP command use the event loop's own time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """The time functions the engine uses."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Return seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; cancelling the task ends the wait."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when a test calls ``advance``.

    Sleepers wake in deadline order as ``advance`` passes their deadline.
    ``wait_for_sleepers`` lets a test wait until the code under test is
    blocked in ``sleep`` (for example, backing off) before it steps time.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._changed = asyncio.Event()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(
            self._sleepers, (self._elapsed + seconds, next(self._order), future)
        )
        self._changed.set()
        try:
            await future
        finally:
            if not future.done():
                future.cancel()

    @property
    def sleeping(self) -> int:
        """How many sleeps are waiting now."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def next_deadline(self) -> float | None:
        """Return the seconds until the earliest pending sleep ends, if any."""
        pending = [when for when, _, future in self._sleepers if not future.done()]
        return min(pending) - self._elapsed if pending else None

    async def wait_for_sleepers(self, count: int = 1) -> None:
        """Wait (in real time, without a bound) until ``count`` sleeps are pending."""
        while self.sleeping < count:
            self._changed.clear()
            await self._changed.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper whose deadline has come."""
        target = self._elapsed + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            when, _, future = heapq.heappop(self._sleepers)
            self._elapsed = max(self._elapsed, when)
            if not future.done():
                future.set_result(None)
                # Let the woken task run before the next deadline fires.
                for _ in range(5):
                    await asyncio.sleep(0)
        self._elapsed = target
