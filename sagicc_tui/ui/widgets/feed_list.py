"""The ticket feed: a virtual list that renders only the rows on screen."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sagicc_tui.ui.backend import ConsoleBackend, FeedFilter, FeedRow
from sagicc_tui.ui.widgets.feed_columns import row_text

PAGE_SIZE = 100
MAX_CACHED_PAGES = 16
# Rendered lines kept; a new ticket shifts rows down, so most lines of the
# next paint are hits.
MAX_CACHED_LINES = 512
# Ages are shown in minutes at best, so the rows repaint this often.
AGE_REFRESH_SECONDS = 30.0
# How far around the cursor a reload looks for the selected ticket.
RESELECT_WINDOW = 50
NO_MATCH_TEXT = " No tickets match this filter (Escape clears it)"
NO_TICKETS_TEXT = " No tickets yet"


class FeedList(ScrollView, can_focus=True):
    """Tickets by last activity, read page by page from the backend.

    Only the pages holding visible rows are fetched and at most
    ``MAX_CACHED_PAGES`` are kept, so the widget's memory does not grow with
    the number of tickets stored.
    """

    BINDINGS = [
        Binding("j,down", "cursor_down", "Next ticket", show=False, id="feed.down"),
        Binding("k,up", "cursor_up", "Previous ticket", show=False, id="feed.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="feed.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="feed.page_up"),
        Binding("home", "first", "First ticket", show=False, id="feed.first"),
        Binding("end", "last", "Last ticket", show=False, id="feed.last"),
        Binding("enter", "select", "Open ticket", id="feed.open"),
    ]

    COMPONENT_CLASSES = {"feed-list--cursor", "feed-list--closed"}

    DEFAULT_CSS = """
    FeedList { height: 1fr; scrollbar-size-vertical: 1; }
    FeedList > .feed-list--cursor { background: $accent; color: $text; }
    FeedList:blur > .feed-list--cursor { background: $accent 50%; }
    FeedList > .feed-list--closed { color: $text-muted; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class TicketHighlighted(Message):
        """The cursor moved onto a ticket."""

        def __init__(self, feed: FeedList, row: FeedRow) -> None:
            super().__init__()
            self.feed = feed
            self.row = row

        @property
        def control(self) -> FeedList:
            return self.feed

    class TicketSelected(TicketHighlighted):
        """The operator pressed Enter on a ticket."""

    def __init__(
        self,
        backend: ConsoleBackend,
        now: Callable[[], datetime],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.now = now
        self.query_filter = FeedFilter()
        self.count = 0
        self._pages: OrderedDict[int, list[FeedRow]] = OrderedDict()
        self._lines: OrderedDict[tuple[object, ...], Strip] = OrderedDict()

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(AGE_REFRESH_SECONDS, self.refresh, name="feed-ages")

    # Data

    def _page(self, number: int) -> list[FeedRow]:
        page = self._pages.get(number)
        if page is None:
            offset = number * PAGE_SIZE
            page = list(self.backend.list_tickets(self.query_filter, offset, PAGE_SIZE))
            self._pages[number] = page
            while len(self._pages) > MAX_CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page

    def row_at(self, index: int) -> FeedRow | None:
        """Return the ticket at ``index`` in the current order, if any."""
        if not 0 <= index < self.count:
            return None
        page = self._page(index // PAGE_SIZE)
        offset = index % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    @property
    def selected(self) -> FeedRow | None:
        return self.row_at(self.cursor)

    def set_filter(self, query: FeedFilter) -> None:
        """Show the tickets matching ``query``, cursor on the first one."""
        self.query_filter = query
        self._pages.clear()
        self.count = self.backend.count_tickets(query)
        self._resize()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.cursor = 0

    def reload(self, *, recount: bool = True, created: int = 0) -> None:
        """Re-read the store, keeping the cursor on the ticket it was on.

        Pass ``recount=False`` only when the changes since the last read are
        ``created`` new tickets and messages on listed ones. Without a filter
        the count then grows by ``created``, which saves counting every ticket.
        """
        previous = self.selected
        self._pages.clear()
        if recount or self.query_filter != FeedFilter():
            self.count = self.backend.count_tickets(self.query_filter)
        else:
            self.count += created
        self._resize()
        if previous is not None:
            self._follow(previous.ticket_id)
        last = max(0, self.count - 1)
        if self.cursor > last:
            self.cursor = last
        self.refresh()

    def _follow(self, ticket_id: int) -> None:
        """Move the cursor to where ``ticket_id`` now sits, if it is nearby.

        The visible rows shift with it (unless the view is at the top, where
        new tickets should come into sight), so the screen row under the
        cursor stays put.
        """
        start = max(0, self.cursor - RESELECT_WINDOW)
        rows = self.backend.list_tickets(self.query_filter, start, 2 * RESELECT_WINDOW)
        for offset, row in enumerate(rows):
            if row.ticket_id == ticket_id:
                shift = start + offset - self.cursor
                if shift and self.scroll_y > 0:
                    self.scroll_to(
                        y=self.scroll_y + shift, animate=False, immediate=True
                    )
                self.set_reactive(FeedList.cursor, start + offset)
                return

    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.count)

    def on_resize(self, event: events.Resize) -> None:
        self._resize()

    # Rendering

    @property
    def row_width(self) -> int:
        """Cells a row may use: the widget's width less its scrollbar."""
        return self.scrollable_content_region.width

    def notify_style_update(self) -> None:
        self._lines.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        index = y + int(self.scroll_y)
        width = self.row_width
        row = self.row_at(index)
        if row is None and index == 0 and self.count == 0:
            return self._render_empty(width)
        if row is None:
            return Strip.blank(width, self.rich_style)
        text = row_text(row, width, self.now())
        key = (text, row.status, index == self.cursor, width)
        strip = self._lines.get(key)
        if strip is None:
            strip = self._render_row(text, row.status == "closed", key[2], width)
            self._lines[key] = strip
            if len(self._lines) > MAX_CACHED_LINES:
                self._lines.popitem(last=False)
        return strip

    def _render_empty(self, width: int) -> Strip:
        """Return a line saying why the list is empty, so it is not taken for a bug."""
        filtered = self.query_filter != FeedFilter()
        text = NO_MATCH_TEXT if filtered else NO_TICKETS_TEXT
        style = self.rich_style + self.get_component_rich_style("feed-list--closed")
        return Strip([Segment(text, style)]).crop_extend(0, width, style)

    def _render_row(
        self, text: str, closed: bool, under_cursor: bool, width: int
    ) -> Strip:
        style = self.rich_style
        if closed:
            style = style + self.get_component_rich_style("feed-list--closed")
        if under_cursor:
            style = style + self.get_component_rich_style("feed-list--cursor")
        return Strip([Segment(text, style)]).crop_extend(0, width, style)

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh(Region(0, old - int(self.scroll_y), self.size.width, 1))
        self.refresh(Region(0, new - int(self.scroll_y), self.size.width, 1))
        self.scroll_to_region(
            Region(0, new, 1, 1), animate=False, immediate=True, force=True
        )
        row = self.selected
        if row is not None:
            self.post_message(self.TicketHighlighted(self, row))

    # Actions

    def _move_to(self, index: int) -> None:
        if self.count:
            self.cursor = max(0, min(index, self.count - 1))

    def action_cursor_down(self) -> None:
        self._move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move_to(self.cursor - 1)

    def action_page_down(self) -> None:
        self._move_to(self.cursor + max(1, self.size.height - 1))

    def action_page_up(self) -> None:
        self._move_to(self.cursor - max(1, self.size.height - 1))

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(self.count - 1)

    def action_select(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.TicketSelected(self, row))

    def on_click(self, event: events.Click) -> None:
        self._move_to(event.y + int(self.scroll_y))
