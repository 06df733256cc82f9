"""Every channel with its engine state; add, edit, test and remove them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import ChannelKind, ChannelStateView, StepResult
from sagicc_tui.ui.messages import StoreChanged
from sagicc_tui.ui.screens.channel_form import ChannelFormScreen, step_line
from sagicc_tui.ui.screens.dialogs import ConfirmDialog
from sagicc_tui.ui.widgets.lists import RowTable

if TYPE_CHECKING:
    from sagicc_tui.ui.app import SagiccApp

BAR_WIDTH = 10
REFRESH_SECONDS = 1.0


def progress_bar(fraction: float) -> str:
    """Return a text bar such as ``███░░░░░░░  30%`` for 0.0 to 1.0."""
    fraction = min(1.0, max(0.0, fraction))
    filled = int(BAR_WIDTH * fraction)
    return "█" * filled + "░" * (BAR_WIDTH - filled) + f" {int(100 * fraction):3d}%"


def state_detail(state: ChannelStateView, now: datetime) -> str:
    """Return what the operator should know beyond the state's name."""
    if state.state == "syncing" and state.progress is not None:
        bar = progress_bar(state.progress)
        return f"{bar} {state.detail}".rstrip()
    if state.state == "backing-off" and state.until:
        seconds = max(0, int((state.until - now).total_seconds()))
        text = f"retry in {seconds} s ({state.until:%H:%M:%S} UTC)"
        return f"{text}: {state.error}" if state.error else text
    return state.error or state.detail


class ChannelsScreen(Screen[None]):
    """The channel list; the engine's state refreshes every second."""

    app: SagiccApp

    BINDINGS = [
        Binding("n", "add('incoming')", "Add incoming", id="channels.add_incoming"),
        Binding("N", "add('outgoing')", "Add outgoing", id="channels.add_outgoing"),
        Binding("e,enter", "edit", "Edit", id="channels.edit"),
        Binding("t", "test", "Test connection", id="channels.test"),
        Binding("d", "remove", "Remove", id="channels.remove"),
        Binding("q,escape", "back", "Back", id="channels.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("Channels", classes="title")
        yield RowTable(id="channels", cursor_type="row", zebra_stripes=True)
        yield Static(id="channel-test")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Kind", "State", "Detail")
        self.refresh_states()
        self.set_interval(REFRESH_SECONDS, self.refresh_states)
        table.focus()

    @on(StoreChanged)
    def refresh_states(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        now = self.app.now()
        for state in self.app.backend.channel_states():
            # Text cells: a DataTable reads plain strings as markup.
            table.add_row(
                Text(printable(state.name, multiline=False)),
                state.kind,
                state.state,
                Text(printable(state_detail(state, now), multiline=False)),
                key=f"{state.kind}:{state.name}",
            )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    def _selected(self) -> tuple[ChannelKind, str] | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value or ""
        kind, _, name = key.partition(":")
        return ("outgoing" if kind == "outgoing" else "incoming"), name

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "test", "remove"):
            return self.is_mounted and self._selected() is not None
        return True

    def action_add(self, kind: ChannelKind) -> None:
        self.app.push_screen(ChannelFormScreen(kind, None), self._saved)

    def action_edit(self) -> None:
        selected = self._selected()
        if selected:
            self.app.push_screen(ChannelFormScreen(*selected), self._saved)

    def _saved(self, saved: bool | None) -> None:
        if saved:
            self.refresh_states()

    def action_remove(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        kind, name = selected

        def remove(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                self.app.backend.remove_channel(kind, name)
            except Exception as error:
                self.app.report_error(f"Removing {name} failed", error, "check the log")
                return
            self.notify(f"Removed the {kind} channel {name}")
            self.refresh_states()

        question = f"Remove the {kind} channel {name!r}? Its tickets stay in the store."
        self.app.push_screen(ConfirmDialog(question), remove)

    def action_test(self) -> None:
        selected = self._selected()
        if selected:
            testing = Text(f"Testing {selected[1]}…")
            self.query_one("#channel-test", Static).update(testing)
            self._run_test(*selected)

    @work(
        thread=True, exclusive=True, group="channel-test", description="Connection test"
    )
    def _run_test(self, kind: ChannelKind, name: str) -> None:
        backend = self.app.backend
        values = backend.channel_values(kind, name)
        lines: dict[str, str] = {"": f"Testing {name}:"}

        def on_step(step: StepResult) -> None:
            lines[step.name] = step_line(step)
            self.app.call_from_thread(self._show_test, "\n".join(lines.values()))

        passed = backend.test_connection(kind, values, on_step)
        lines["result"] = (
            "All steps passed." if passed else "The test failed at the step above."
        )
        self.app.call_from_thread(self._show_test, "\n".join(lines.values()))

    def _show_test(self, text: str) -> None:
        shown = Text(printable(text, multiline=True))
        self.query_one("#channel-test", Static).update(shown)

    def action_back(self) -> None:
        self.dismiss()
