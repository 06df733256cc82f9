"""The console app: screens, polling the store, announcements, errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import Change, ConsoleBackend
from sagicc_tui.ui.messages import StoreChanged
from sagicc_tui.ui.screens.feed import FeedScreen
from sagicc_tui.ui.screens.help import HelpScreen, screen_actions
from sagicc_tui.ui.screens.welcome import WelcomeScreen

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


def _utc_now() -> datetime:
    return datetime.now(UTC)


def all_binding_ids() -> set[str]:
    """Return the id of every binding of the app, its screens and widgets."""
    from sagicc_tui.ui.screens import (
        channel_form,
        channels,
        compose,
        dialogs,
        drafts,
        review,
        ticket,
        welcome,
    )
    from sagicc_tui.ui.widgets.feed_list import FeedList
    from sagicc_tui.ui.widgets.lists import KeyOptionList, RowTable

    classes = [
        SagiccApp,
        FeedScreen,
        HelpScreen,
        FeedList,
        RowTable,
        KeyOptionList,
        channel_form.ChannelFormScreen,
        channels.ChannelsScreen,
        compose.ComposeScreen,
        dialogs.ConfirmDialog,
        dialogs.PromptDialog,
        drafts.DraftsDialog,
        review.ReviewScreen,
        ticket.TicketScreen,
        welcome.WelcomeScreen,
    ]
    return {
        binding.id
        for cls in classes
        for binding in cls.BINDINGS
        if isinstance(binding, Binding) and binding.id
    }


def expand_keymap(config: Mapping[str, str], binding_ids: set[str]) -> dict[str, str]:
    """Turn the config's key table into Textual's keymap of binding ids.

    A name with a dot (``"feed.search"``) names one binding; a bare name
    (``reply``) applies to every binding of that name on any screen, e.g.
    ``ticket.reply``. Unknown names are logged and ignored.
    """
    keymap: dict[str, str] = {}
    for name, keys in config.items():
        if "." in name:
            matches = [name] if name in binding_ids else []
        else:
            matches = [i for i in binding_ids if i.rpartition(".")[2] == name]
        if not matches:
            log.warning("key_bindings: no console action is called %r; ignored", name)
        for binding_id in matches:
            keymap[binding_id] = keys
    return keymap


class SagiccApp(App[str | None]):
    """The operator console.

    Every read and action goes through ``backend``. The app polls its change
    counter, posts ``StoreChanged`` to each screen and announces new tickets
    and customers' answers. The app's return value is ``"demo"`` when the operator
    chose the demo on the welcome screen.
    """

    CSS_PATH = "sagicc.tcss"
    TITLE = "sagicc"
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("colon", "command_palette", "Commands", id="app.commands"),
        # Textual adds its own Ctrl+P binding only when the app has no palette
        # binding, so the colon above would leave Ctrl+P doing nothing.
        # Priority keeps it working while an input has focus.
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            priority=True,
            id="app.palette",
        ),
        Binding("L", "channels", "Channels", id="app.channels"),
        Binding("m", "new_message", "New message", id="app.new_message"),
    ]

    def __init__(
        self,
        backend: ConsoleBackend,
        *,
        now: Callable[[], datetime] = _utc_now,
        keymap: Mapping[str, str] | None = None,
        poll_seconds: float = POLL_SECONDS,
        log_file: str = "",
        cursor_blink: bool = True,
        engine_problem: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.now = now
        self.poll_seconds = poll_seconds
        self.log_file = log_file
        self._keymap_config = dict(keymap or {})
        self._seen_change = 0
        self.cursor_blink = cursor_blink
        self.engine_problem = engine_problem
        self._engine_reported = False

    def on_mount(self) -> None:
        self.set_keymap(expand_keymap(self._keymap_config, all_binding_ids()))
        self._seen_change = self.backend.change_counter()
        if self.backend.channel_names():
            self.push_screen(FeedScreen())
        else:
            self.push_screen(WelcomeScreen())
        self.set_interval(self.poll_seconds, self.poll_store, name="poll-store")

    def apply_cursor_blink(self, screen: Screen) -> None:
        """Set every text cursor on ``screen`` to blink or not, as configured."""
        for widget in screen.query("Input, TextArea"):
            widget.cursor_blink = self.cursor_blink  # type: ignore[attr-defined]

    # Live updates

    def poll_store(self) -> None:
        """Send one ``StoreChanged`` per poll, however many changes came in."""
        self._check_engine()
        try:
            counter = self.backend.change_counter()
            if counter == self._seen_change:
                return
            changes = self.backend.changes_since(self._seen_change)
        except Exception as error:  # the store may be locked or moved away
            self.report_error("Reading the store failed", error, "check the log")
            return
        self._seen_change = counter
        self.announce(changes)
        for screen in self.screen_stack:
            screen.post_message(StoreChanged(changes))

    def _check_engine(self) -> None:
        """Tell the operator once when the in-process engine has stopped."""
        if self.engine_problem is None or self._engine_reported:
            return
        problem = self.engine_problem()
        if problem:
            self._engine_reported = True
            where = f" Details: {self.log_file}" if self.log_file else ""
            self.notify(
                f"{problem}\nMail is not synced or sent until sagicc restarts.{where}",
                title="Engine stopped",
                severity="error",
                timeout=30,
            )

    def announce(self, changes: Sequence[Change]) -> None:
        """Notify the operator of new tickets and customers' answers."""
        created = [c for c in changes if c.kind == "ticket-created"]
        answered = [c for c in changes if c.kind == "customer-answered"]
        if len(created) > 3:
            self.notify(f"{len(created)} new tickets", title="New tickets")
        else:
            for change in created:
                self.notify(change.summary or "New ticket", title="New ticket")
        if len(answered) > 2:
            self.notify(f"{len(answered)} answers on existing tickets", title="Answers")
        else:
            for change in answered:
                self.notify(change.summary or "A customer answered", title="Answer")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a toast as plain text, whatever ``markup`` says.

        Notifications quote subjects, names and server errors, so they are
        never read as markup and their control characters are escaped.
        """
        super().notify(
            printable(message, multiline=True),
            title=printable(title, multiline=False),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # Errors

    def report_error(self, what: str, error: BaseException, fix: str) -> None:
        """Log ``error`` with its traceback and show the operator one line."""
        log.error("%s: %s", what, error, exc_info=error)
        where = f" Details: {self.log_file}" if self.log_file else ""
        self.notify(
            f"{error}\nWhat to do: {fix}.{where}",
            title=what,
            severity="error",
            timeout=10,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            what = worker.description or worker.name or "A background task"
            self.report_error(f"{what} failed", worker.error, "check the log and retry")

    # Actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer a new message only where tickets are shown (not while composing)."""
        if action == "new_message":
            from sagicc_tui.ui.screens.ticket import TicketScreen

            base = next(
                (
                    s
                    for s in reversed(self.screen_stack)
                    if not isinstance(s, ModalScreen)
                ),
                None,
            )
            return isinstance(base, FeedScreen | TicketScreen)
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_channels(self) -> None:
        from sagicc_tui.ui.screens.channels import ChannelsScreen

        if not isinstance(self.screen, ChannelsScreen):
            self.push_screen(ChannelsScreen())

    def action_new_message(self) -> None:
        from sagicc_tui.ui.screens.compose import open_compose

        open_compose(self, "new", None, None)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Offer each console action of the current screen as "area: verb".

        Textual's own commands (theme, screenshot, scrolling) are left out, so
        the palette lists only what the help screen lists.
        """
        for action in screen_actions(self, screen):
            if not action.enabled or action.binding.action == "command_palette":
                continue
            area = action.binding_id.split(".")[0]
            yield SystemCommand(
                f"{area}: {action.description.lower()}",
                f"key {action.keys}",
                partial(self.run_action, action.binding.action, action.node),
            )
