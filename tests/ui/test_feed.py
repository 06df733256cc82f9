"""Feed screen driven with keys: cursor, live updates, filters, search."""

from __future__ import annotations

from sagicc_tui.ui.screens.feed import FeedScreen
from sagicc_tui.ui.screens.ticket import TicketScreen
from sagicc_tui.ui.widgets.feed_list import PAGE_SIZE, FeedList
from sagicc_tui.ui.widgets.status_line import StatusLine
from tests.ui.memory_backend import MemoryBackend


async def test_feed_lists_newest_first(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)):
        assert isinstance(app.screen, FeedScreen)
        feed = app.screen.query_one(FeedList)
        assert feed.count == 12
        assert feed.selected is not None
        assert feed.selected.number == 1001
        assert feed.row_at(11).number == 1012


async def test_cursor_keys_post_highlights(make_app, posted) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=posted.append) as pilot:
        await pilot.press("j", "j", "down", "k")
        await pilot.pause()
        feed = app.screen.query_one(FeedList)
        assert feed.cursor == 2
        highlights = posted.of(FeedList.TicketHighlighted)
        assert [m.row.number for m in highlights][-4:] == [1002, 1003, 1004, 1003]


async def test_enter_opens_ticket(make_app, posted) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=posted.append) as pilot:
        await pilot.press("j", "enter")
        await pilot.pause()
        selected = posted.of(FeedList.TicketSelected)
        assert [m.row.number for m in selected] == [1002]
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.ticket_id == 2


async def test_new_ticket_keeps_cursor_ticket(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j", "j")
        feed = app.screen.query_one(FeedList)
        before = feed.selected

        backend.add_ticket("Zoë New", "Printer on fire")
        app.poll_store()
        await pilot.pause()

        assert feed.count == 13
        assert feed.selected == before
        assert feed.cursor == 3
        assert feed.row_at(0).subject == "Printer on fire"
        titles = [n.title for n in app._notifications]
        assert "New ticket" in titles


async def test_search_filters_feed(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        await pilot.press(*"parcel")
        await pilot.press("enter")
        await pilot.pause()
        feed = app.screen.query_one(FeedList)
        assert feed.query_filter.search == "parcel"
        assert feed.count == 3
        assert all("parcel" in feed.row_at(i).subject for i in range(feed.count))

        await pilot.press("escape")
        assert feed.count == 12


async def test_empty_filter_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"nothing-matches", "enter")
        await pilot.pause()
        feed = app.screen.query_one(FeedList)
        assert feed.count == 0
        first_line = feed.render_line(0).text
        assert "No tickets match this filter (Escape clears it)" in first_line
        status = str(app.screen.query_one(StatusLine).render())
        assert "│ 0 tickets" in status

        status_line = app.screen.query_one(StatusLine)
        status_line.show(None, [], 1, [])
        assert "│ 1 ticket" in str(status_line.render())
        assert "1 tickets" not in str(status_line.render())

        await pilot.press("escape")
        assert feed.count == 12
        assert "No tickets match" not in feed.render_line(0).text


async def test_status_and_channel_filters(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        feed = app.screen.query_one(FeedList)
        await pilot.press("s")
        assert feed.query_filter.status == "open"
        assert feed.count == 10
        await pilot.press("s")
        assert feed.query_filter.status == "closed"
        assert feed.count == 2
        await pilot.press("s", "v")
        assert feed.query_filter.channel == "billing"
        assert feed.count == 4


async def test_close_and_reopen_from_feed(make_app, backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        assert backend.get_ticket(1).row.status == "closed"
        await pilot.press("c")  # already closed: the key does nothing
        await pilot.press("o")
        assert backend.get_ticket(1).row.status == "open"


class CountingBackend(MemoryBackend):
    """Records every page the feed requests."""

    def __init__(self, tickets: int) -> None:
        super().__init__(tickets)
        self.requests: list[tuple[int, int]] = []

    def list_tickets(self, query, offset, limit):
        self.requests.append((offset, limit))
        return super().list_tickets(query, offset, limit)


async def test_feed_reads_only_visible_pages(make_app) -> None:
    counting = CountingBackend(tickets=3000)
    app = make_app(counting)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end")
        await pilot.pause()
        feed = app.screen.query_one(FeedList)
        assert feed.cursor == 2999
        assert feed.selected.number == 4000  # oldest activity sorts last
        offsets = {offset for offset, _ in counting.requests}
        assert offsets <= {0, 2900}
        assert all(limit == PAGE_SIZE for _, limit in counting.requests)
