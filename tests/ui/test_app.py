"""App-wide keys: help, command palette, key remapping, welcome, errors."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Static

from sagicc_tui.ui.app import SagiccApp, all_binding_ids, expand_keymap
from sagicc_tui.ui.backend import Change
from sagicc_tui.ui.screens.compose import ComposeScreen
from sagicc_tui.ui.screens.feed import FeedScreen
from sagicc_tui.ui.screens.help import HelpScreen
from sagicc_tui.ui.screens.welcome import WelcomeScreen
from tests.ui.memory_backend import FROZEN_NOW, MemoryBackend


async def test_help_lists_every_key(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one(Static).render())
        for description in ("Search", "Status filter", "Open ticket", "Commands"):
            assert description in text
        await pilot.press("escape")
        assert isinstance(app.screen, FeedScreen)


async def test_help_hides_framework_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        text = str(app.screen.query_one(Static).render())
        for internal in ("Scroll Left", "Page Left", "Copy selected text", "Focus"):
            assert internal not in text
        assert "feed.search" in text
        assert "[key_bindings] table of config.toml" in text


async def test_palette_offers_area_verbs(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "feed: search" in titles
        assert "feed: open ticket" in titles
        assert "app: channels" in titles
        assert "app: commands" not in titles
        for title in titles:
            assert "page left" not in title
            assert "scroll" not in title
            assert "theme" not in title.lower()
        await pilot.press("colon")
        assert isinstance(app.screen, CommandPalette)


async def test_ctrl_p_opens_palette(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        await pilot.press("enter", "r")
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)


async def test_keymap_remaps_binding(backend) -> None:
    app = SagiccApp(backend, now=lambda: FROZEN_NOW, keymap={"feed.search": "f3"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        assert not app.screen.query_one("#feed-search").display
        await pilot.press("f3")
        assert app.screen.query_one("#feed-search").display


async def test_welcome_without_channels() -> None:
    empty = MemoryBackend(tickets=0)
    empty.channels.clear()
    app = SagiccApp(empty, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("d")
    assert app.return_value == "demo"


async def test_welcome_gives_way_to_feed() -> None:
    empty = MemoryBackend(tickets=0)
    saved = dict(empty.channels)
    empty.channels.clear()
    app = SagiccApp(empty, now=lambda: FROZEN_NOW, poll_seconds=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, WelcomeScreen)

        # Another shell added a channel and the engine reported it.
        empty.channels.update(saved)
        empty.changes.append(Change(1, "channel-state"))
        app.poll_store()
        await pilot.pause()

        assert isinstance(app.screen, FeedScreen)


class BrokenBackend(MemoryBackend):
    def change_counter(self) -> int:
        if getattr(self, "broken", False):
            raise OSError("database disk image is malformed")
        return 0


async def test_store_error_becomes_notification() -> None:
    broken = BrokenBackend()
    app = SagiccApp(broken, now=lambda: FROZEN_NOW, log_file="/tmp/x.log")
    async with app.run_test(size=(80, 24)) as pilot:
        broken.broken = True
        app.poll_store()
        await pilot.pause()
        notes = list(app._notifications)
        assert notes[-1].severity == "error"
        assert notes[-1].title == "Reading the store failed"
        assert "malformed" in notes[-1].message
        assert "/tmp/x.log" in notes[-1].message


def test_keymap_bare_names_expand() -> None:
    ids = all_binding_ids()
    assert "ticket.reply" in ids
    assert "feed.search" in ids
    keymap = expand_keymap({"reply": "R", "feed.search": "f3", "nothing": "x"}, ids)
    assert keymap == {"ticket.reply": "R", "feed.search": "f3"}


async def test_engine_stop_reported_once(backend) -> None:
    app = SagiccApp(
        backend,
        now=lambda: FROZEN_NOW,
        poll_seconds=3600,
        engine_problem=lambda: "the engine stopped: disk full",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        app.poll_store()
        app.poll_store()
        await pilot.pause()
        stopped = [n for n in app._notifications if n.title == "Engine stopped"]
        assert len(stopped) == 1
        assert "disk full" in stopped[0].message
