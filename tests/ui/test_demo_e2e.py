"""The demo end to end: fakemail, the engine and the console together.

Waits are generous deadlines for a loaded machine, not speed checks.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sagicc_tui.cli.demo import DemoStack, find_scenario
from sagicc_tui.paths import resolve_paths
from sagicc_tui.store import TicketStore
from sagicc_tui.ui.app import SagiccApp
from sagicc_tui.ui.channel_settings import ChannelSettings
from sagicc_tui.ui.engine_host import EngineHost
from sagicc_tui.ui.screens.compose import ComposeScreen
from sagicc_tui.ui.screens.ticket import TicketScreen
from sagicc_tui.ui.store_backend import StoreBackend
from sagicc_tui.ui.widgets.feed_list import FeedList

DEADLINE_SECONDS = 90
# Tom's responder answers a reply after 5 scenario seconds.
CUSTOMER = "tom.baker@northwind.example"


async def wait_until(pilot, condition, what: str) -> None:
    """Poll the store through the app until ``condition()`` holds."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {DEADLINE_SECONDS} s waiting for {what}")
        pilot.app.poll_store()
        await pilot.pause(0.2)


@pytest.fixture
def demo(sagicc_home: Path):
    paths = resolve_paths().ensure()
    stack = DemoStack(find_scenario("demo"), paths, speed=4.0)
    stack.start()
    settings = ChannelSettings(paths)
    store = TicketStore.open(paths.store_file)
    host = EngineHost(
        stack.background,
        paths,
        settings.load(),
        settings.secrets(),
        ca_file=stack.ca_file,
    )
    assert host.start()
    yield stack, StoreBackend(store, settings, operator="e2e")
    host.stop()
    stack.stop()
    store.close()


def find_row(feed: FeedList, customer_addr: str, backend: StoreBackend) -> int | None:
    for index in range(feed.count):
        row = feed.row_at(index)
        ticket = backend.get_ticket(row.ticket_id)
        if ticket and ticket.customer_address == customer_addr:
            return index
    return None


async def test_demo_reply_and_answer(demo) -> None:
    stack, backend = demo
    app = SagiccApp(backend, cursor_blink=False, poll_seconds=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        feed = app.screen.query_one(FeedList)
        await wait_until(
            pilot, lambda: find_row(feed, CUSTOMER, backend) is not None, "Tom's ticket"
        )
        feed.cursor = find_row(feed, CUSTOMER, backend)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        before = len(backend.ticket_messages(screen.ticket_id))

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        app.screen.query_one("#compose-body").insert("The fix ships tonight.\n")
        await pilot.press("ctrl+s", "y")
        await pilot.pause()
        assert app.screen is screen

        def reply_recorded() -> bool:
            return any(
                CUSTOMER in record.rcpt_tos
                for record in stack.fakemail.outbox.records()
            )

        await wait_until(pilot, reply_recorded, "the reply in fakemail's SMTP outbox")
        record = next(
            r for r in stack.fakemail.outbox.records() if CUSTOMER in r.rcpt_tos
        )
        assert "The fix ships tonight." in record.message().get_body().get_content()
        assert record.header("In-Reply-To")

        def answered() -> bool:
            messages = backend.ticket_messages(screen.ticket_id)
            return len(messages) >= before + 2 and not messages[-1].outgoing

        await wait_until(pilot, answered, "the customer's answer in the same ticket")
        app.poll_store()
        await pilot.pause()
        senders = [m.sender for m in screen.messages]
        assert any(CUSTOMER in sender for sender in senders[before + 1 :]), senders
