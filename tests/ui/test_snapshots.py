"""Snapshots of every screen at 80x24 and 120x40, clock frozen, data fixed."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from sagicc_tui.ui.app import SagiccApp
from tests.ui.memory_backend import FROZEN_NOW, MemoryBackend
from tests.ui.store_data import STORE_NOW, fill_store

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def fixed_app(backend: MemoryBackend | None = None) -> SagiccApp:
    return SagiccApp(
        backend or MemoryBackend(),
        now=lambda: FROZEN_NOW,
        cursor_blink=False,
        poll_seconds=3600,
    )


def no_channels() -> MemoryBackend:
    empty = MemoryBackend(tickets=0)
    empty.channels.clear()
    return empty


@pytest.mark.parametrize("size", SIZES)
def test_feed_snapshot(snap_compare, size) -> None:
    assert snap_compare(fixed_app(), press=["j", "j"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_feed_search_snapshot(snap_compare, size) -> None:
    keys = ["slash", *"parcel", "enter"]
    assert snap_compare(fixed_app(), press=keys, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_ticket_snapshot(snap_compare, size) -> None:
    assert snap_compare(fixed_app(), press=["j", "j", "enter"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_compose_snapshot(snap_compare, size) -> None:
    keys = ["j", "j", "enter", "r"]
    assert snap_compare(fixed_app(), press=keys, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_review_snapshot(snap_compare, size) -> None:
    keys = ["j", "j", "enter", "r", "ctrl+s"]
    assert snap_compare(fixed_app(), press=keys, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_channels_snapshot(snap_compare, size) -> None:
    assert snap_compare(fixed_app(), press=["L"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_channel_form_snapshot(snap_compare, size) -> None:
    async def bad_port(pilot) -> None:
        await pilot.press("L", "n")
        pilot.app.screen.query_one("#field-port", Input).value = "99999"
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=size, run_before=bad_port)


@pytest.mark.parametrize("size", SIZES)
def test_help_snapshot(snap_compare, size) -> None:
    assert snap_compare(fixed_app(), press=["question_mark"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_welcome_snapshot(snap_compare, size) -> None:
    assert snap_compare(fixed_app(no_channels()), terminal_size=size)


def store_app(tmp_path) -> SagiccApp:
    backend = fill_store(tmp_path / "home")
    return SagiccApp(
        backend, now=lambda: STORE_NOW, cursor_blink=False, poll_seconds=3600
    )


@pytest.mark.parametrize("size", SIZES)
def test_store_feed_snapshot(snap_compare, size, tmp_path) -> None:
    assert snap_compare(store_app(tmp_path), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_store_ticket_snapshot(snap_compare, size, tmp_path) -> None:
    assert snap_compare(store_app(tmp_path), press=["enter"], terminal_size=size)
