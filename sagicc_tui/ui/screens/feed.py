"""The feed: every ticket by last activity, filters and search."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from sagicc_tui.mail.display import printable
from sagicc_tui.ui.backend import FeedFilter
from sagicc_tui.ui.messages import StoreChanged
from sagicc_tui.ui.widgets.feed_columns import header_text
from sagicc_tui.ui.widgets.feed_list import FeedList
from sagicc_tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from sagicc_tui.ui.app import SagiccApp

STATUS_CYCLE = (None, "open", "closed")
# Changes after which the feed counts its tickets again: a status change,
# merge or split can hide or show tickets. New tickets are added to the count.
RECOUNT_KINDS = {"ticket-updated"}


class FeedScreen(Screen[None]):
    """The first screen: a live list of tickets."""

    app: SagiccApp

    BINDINGS = [
        Binding("slash", "search", "Search", id="feed.search"),
        Binding("s", "cycle_status", "Status filter", id="feed.status"),
        Binding("v", "cycle_channel", "Channel filter", id="feed.channel"),
        Binding("c", "close_ticket", "Close", id="feed.close"),
        Binding("o", "reopen_ticket", "Reopen", id="feed.reopen"),
        Binding("P", "postponed", "Postponed drafts", id="feed.postponed"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="feed.clear"),
        Binding("q", "quit", "Quit", id="feed.quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="feed-title", classes="title")
        yield Static(id="feed-header", classes="column-header")
        yield FeedList(self.app.backend, self.app.now, id="feed")
        yield Input(placeholder="Search customer, subject, body", id="feed-search")
        yield StatusLine(id="status")
        yield Footer(show_command_palette=False)

    @property
    def feed(self) -> FeedList:
        return self.query_one(FeedList)

    def on_mount(self) -> None:
        self.query_one("#feed-search").display = False
        self.feed.focus()
        self.refresh_chrome()

    def on_resize(self) -> None:
        self.call_after_refresh(self._update_header)

    def _update_header(self) -> None:
        header = self.query_one("#feed-header", Static)
        header.update(header_text(self.feed.row_width), layout=False)

    def refresh_chrome(self) -> None:
        """Update the title, column header and status line."""
        query = self.feed.query_filter
        parts = ["Feed"]
        if query.status:
            parts.append(f"status: {query.status}")
        if query.channel:
            parts.append(f"channel: {query.channel}")
        if query.search:
            parts.append(f"search: {query.search}")
        title = Text(printable(" · ".join(parts), multiline=False))
        self.query_one("#feed-title", Static).update(title, layout=False)
        self._update_header()
        backend = self.app.backend
        self.query_one(StatusLine).show(
            query.channel, backend.channel_states(), self.feed.count, backend.outbox()
        )

    @on(StoreChanged)
    def reload_feed(self, event: StoreChanged) -> None:
        recount = any(c.kind in RECOUNT_KINDS for c in event.changes)
        created = sum(1 for c in event.changes if c.kind == "ticket-created")
        self.feed.reload(recount=recount, created=created)
        self.refresh_chrome()

    def on_screen_resume(self) -> None:
        self.feed.reload()
        self.refresh_chrome()
        self.feed.focus()

    @on(FeedList.TicketSelected)
    def open_ticket(self, event: FeedList.TicketSelected) -> None:
        from sagicc_tui.ui.screens.ticket import TicketScreen

        self.app.push_screen(TicketScreen(event.row.ticket_id))

    # Filters

    def _apply(self, query: FeedFilter) -> None:
        self.feed.set_filter(query)
        self.refresh_chrome()

    def action_search(self) -> None:
        search = self.query_one("#feed-search", Input)
        search.display = True
        search.value = self.feed.query_filter.search
        search.focus()

    @on(Input.Submitted, "#feed-search")
    def run_search(self, event: Input.Submitted) -> None:
        event.input.display = False
        self._apply(replace(self.feed.query_filter, search=event.value.strip()))
        self.feed.focus()

    def action_clear_filter(self) -> None:
        search = self.query_one("#feed-search", Input)
        if search.display:
            search.display = False
            self.feed.focus()
            return
        self._apply(FeedFilter())

    def action_cycle_status(self) -> None:
        query = self.feed.query_filter
        status = STATUS_CYCLE[
            (STATUS_CYCLE.index(query.status) + 1) % len(STATUS_CYCLE)
        ]
        self._apply(replace(query, status=status))

    def action_cycle_channel(self) -> None:
        query = self.feed.query_filter
        choices: list[str | None] = [None, *self.app.backend.channel_names()]
        index = choices.index(query.channel) if query.channel in choices else 0
        self._apply(replace(query, channel=choices[(index + 1) % len(choices)]))

    # Ticket actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        row = self.feed.selected if self.is_mounted else None
        if action == "close_ticket":
            return row is not None and row.status != "closed"
        if action == "reopen_ticket":
            return row is not None and row.status == "closed"
        return True

    @on(FeedList.TicketHighlighted)
    def update_keys(self) -> None:
        self.refresh_bindings()

    def action_close_ticket(self) -> None:
        row = self.feed.selected
        if row is not None:
            self._run_action(
                "Closing the ticket", self.app.backend.close_ticket, row.ticket_id
            )

    def action_reopen_ticket(self) -> None:
        row = self.feed.selected
        if row is not None:
            self._run_action(
                "Reopening the ticket", self.app.backend.reopen_ticket, row.ticket_id
            )

    def _run_action(self, what: str, call, ticket_id: int) -> None:
        try:
            call(ticket_id)
        except Exception as error:
            self.app.report_error(f"{what} failed", error, "check the log and retry")
            return
        self.feed.reload()
        self.refresh_chrome()
        self.refresh_bindings()

    def action_postponed(self) -> None:
        from sagicc_tui.ui.screens.drafts import DraftsDialog

        try:
            drafts = list(self.app.backend.postponed_drafts())
        except Exception as error:
            self.app.report_error("Reading the drafts failed", error, "check the log")
            return
        if not drafts:
            self.notify("No postponed drafts")
            return
        self.app.push_screen(DraftsDialog(drafts), self._resume)

    def _resume(self, draft_id: str | None) -> None:
        from sagicc_tui.ui.screens.compose import ComposeScreen

        if draft_id is None:
            return
        try:
            draft = self.app.backend.resume_draft(draft_id)
        except Exception as error:
            self.app.report_error("Opening the draft failed", error, "check the log")
            return
        self.app.push_screen(ComposeScreen(draft))

    def action_quit(self) -> None:
        self.app.exit()
