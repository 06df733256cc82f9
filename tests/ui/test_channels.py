"""Channels screen and channel form driven with keys."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label, Select, Static

from sagicc_tui.ui.screens.channel_form import ChannelFormScreen
from sagicc_tui.ui.screens.channels import ChannelsScreen, progress_bar
from sagicc_tui.ui.screens.dialogs import ConfirmDialog


async def open_channels(pilot) -> ChannelsScreen:
    await pilot.press("L")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ChannelsScreen)
    return pilot.app.screen


def test_progress_bar_fills() -> None:
    assert progress_bar(0.4) == "████░░░░░░  40%"
    assert progress_bar(1.5) == "██████████ 100%"


async def test_channels_list_states(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_channels(pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == 3
        billing = [str(cell) for cell in table.get_row_at(1)]
        assert billing[:3] == ["billing", "incoming", "syncing"]
        assert billing[3] == "████░░░░░░  40%"


async def test_channels_list_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_channels(pilot)
        table = screen.query_one(DataTable)
        assert table.cursor_row == 0
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("down")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == 2
        await pilot.press("up")
        assert table.cursor_row == 1


async def test_form_validates_as_typed(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_channels(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, ChannelFormScreen)
        port = form.query_one("#field-port", Input)
        port.value = "99999"
        await pilot.pause()
        error = str(form.query_one("#error-port", Label).render())
        assert "99999" in error
        assert "1 to 65535" in error
        port.value = "[/b]"
        await pilot.pause()
        assert "'[/b]' is invalid" in str(form.query_one("#error-port", Label).render())
        port.value = "143"
        await pilot.pause()
        assert str(form.query_one("#error-port", Label).render()) == ""


async def test_provider_fills_server(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_channels(pilot)
        await pilot.press("n")
        form = app.screen
        form.query_one("#field-provider", Select).value = "google"
        await pilot.pause()
        assert form.query_one("#field-host", Input).value == "imap.gmail.com"
        assert form.query_one("#field-password", Input).password


async def test_form_saves_and_rejects(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_channels(pilot)
        await pilot.press("n")
        form = app.screen
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ChannelFormScreen)
        assert "name" in form.errors
        form.query_one("#field-name", Input).value = "sales"
        form.query_one("#field-host", Input).value = "127.0.0.1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChannelsScreen)
        assert backend.channels[("incoming", "sales")]["host"] == "127.0.0.1"


async def test_remove_asks_first(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_channels(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        assert ("incoming", "support") in backend.channels
        await pilot.press("d", "y")
        await pilot.pause()
        assert ("incoming", "support") not in backend.channels


async def test_connection_test_shows_steps(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_channels(pilot)
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(screen.query_one("#channel-test", Static).render())
        assert "✔ resolve host: 127.0.0.1" in text
        assert "✘ connect: connection refused" in text
        assert "failed at the step above" in text
