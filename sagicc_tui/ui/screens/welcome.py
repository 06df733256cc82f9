"""The first-run screen shown while no channel exists."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from sagicc_tui.ui.messages import StoreChanged

WELCOME = """\
[b]Welcome to sagicc[/b]

No mail channel is set up yet.

  [b]d[/b]  Try the demo: a local fake mail server with customers who write
     and answer, in a temporary folder (the same as `sagicc demo`).
  [b]a[/b]  Add an incoming (IMAP) channel now.
  [b]q[/b]  Quit. Channels can also be added with `sagicc channels add`.
"""


class WelcomeScreen(Screen[None]):
    """Offers the demo or adding a channel."""

    BINDINGS = [
        Binding("d", "demo", "Run the demo", id="welcome.demo"),
        Binding("a", "add_channel", "Add a channel", id="welcome.add"),
        Binding("q", "quit", "Quit", id="welcome.quit"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(WELCOME)
        yield Footer(show_command_palette=False)

    def action_demo(self) -> None:
        self.app.exit("demo")

    def action_add_channel(self) -> None:
        from sagicc_tui.ui.screens.channel_form import ChannelFormScreen

        self.app.push_screen(ChannelFormScreen("incoming", None), self._added)

    def _added(self, saved: bool | None) -> None:
        if saved:
            self._show_feed_when_ready()

    def on_store_changed(self, event: StoreChanged) -> None:
        # A channel added from another shell reaches the store through the
        # engine; the feed replaces this screen once it has.
        if self.is_current:
            self._show_feed_when_ready()

    def _show_feed_when_ready(self) -> None:
        if self.app.backend.channel_names():
            from sagicc_tui.ui.screens.feed import FeedScreen

            self.app.switch_screen(FeedScreen())

    def action_quit(self) -> None:
        self.app.exit()
