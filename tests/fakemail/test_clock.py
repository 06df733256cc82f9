"""Stepped and real scenario clocks."""

from __future__ import annotations

import asyncio

import pytest

from fakemail.clock import RealClock, SteppedClock


async def test_stepped_clock_wakes_sleepers_in_due_order() -> None:
    clock = SteppedClock()
    woken: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append((name, clock.now()))

    tasks = [
        asyncio.create_task(sleeper("late", 30)),
        asyncio.create_task(sleeper("early", 10)),
        asyncio.create_task(sleeper("tie-first", 20)),
        asyncio.create_task(sleeper("tie-second", 20)),
    ]
    await asyncio.sleep(0)

    await clock.advance(15)
    assert woken == [("early", 10.0)]
    assert clock.now() == 15.0

    await clock.advance(15)
    assert woken == [
        ("early", 10.0),
        ("tie-first", 20.0),
        ("tie-second", 20.0),
        ("late", 30.0),
    ]
    assert clock.pending == 0
    await asyncio.gather(*tasks)


async def test_stepped_clock_wakes_chained_sleeps() -> None:
    clock = SteppedClock()
    times: list[float] = []

    async def ticker() -> None:
        for _ in range(3):
            await clock.sleep(5)
            times.append(clock.now())

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await clock.advance(12)
    assert times == [5.0, 10.0]
    assert clock.next_due() == 15.0
    await clock.advance(3)
    assert times == [5.0, 10.0, 15.0]
    await task


async def test_stepped_clock_zero_sleep_returns() -> None:
    clock = SteppedClock(start=4)
    await clock.sleep_until(3)
    await clock.sleep(0)
    assert clock.now() == 4
    assert clock.pending == 0


async def test_stepped_clock_rejects_going_back() -> None:
    clock = SteppedClock()
    with pytest.raises(ValueError, match="cannot move a clock back"):
        await clock.advance(-1)


def test_stepped_clock_wall_time_follows_epoch() -> None:
    clock = SteppedClock(start=60, epoch=1_000_000.0)
    assert clock.wall_time() == 1_000_060.0


def test_real_clock_scales_time() -> None:
    clock = RealClock(speed=1000)
    assert clock.speed == 1000
    assert clock.now() >= 0


def test_real_clock_rejects_bad_speed() -> None:
    with pytest.raises(ValueError, match="invalid clock speed 0"):
        RealClock(speed=0)
