"""Engine clocks for a replay that runs faster than real time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class ScaledClock:
    """Engine time that runs ``speed`` times faster than the monotonic clock.

    It starts at ``epoch`` (Unix seconds), so the engine's dates match the
    dates fakemail writes into messages on its own clock at the same speed.
    """

    def __init__(self, speed: float, epoch: float) -> None:
        if speed <= 0:
            raise ValueError(f"invalid speed {speed!r}: use a number above 0")
        self.speed = speed
        self._start = datetime.fromtimestamp(epoch, UTC)
        self._started = time.monotonic()

    def monotonic(self) -> float:
        return (time.monotonic() - self._started) * self.speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)
