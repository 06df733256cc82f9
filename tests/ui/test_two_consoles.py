"""Two consoles attached to one store while one engine syncs from fakemail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sagicc_tui.engine.runner import Engine
from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import save_config
from sagicc_tui.store import TicketStore
from sagicc_tui.ui.app import SagiccApp
from sagicc_tui.ui.backend import FeedFilter
from sagicc_tui.ui.channel_settings import ChannelSettings
from sagicc_tui.ui.store_backend import StoreBackend
from sagicc_tui.ui.widgets.feed_list import FeedList
from tests.engine.fakemail_support import PASSWORD, USER, fake_imap
from tests.engine.helpers import make_message, open_store_and_secrets, wait_until


def attach(name: str) -> StoreBackend:
    """Open a console's own connection to the shared store, as another process would."""
    paths = resolve_paths()
    store = TicketStore.open(paths.store_file)
    return StoreBackend(store, ChannelSettings(paths), operator=name)


async def test_two_consoles_follow_one_engine(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.channel("support")
        config, engine_store, secrets = open_store_and_secrets([channel], PASSWORD)
        save_config(config, resolve_paths().config_file)
        engine = Engine(config, engine_store, secrets, parse_workers=0)
        engine_task = asyncio.create_task(engine.run())
        alice, bob = attach("alice"), attach("bob")
        app = SagiccApp(alice, cursor_blink=False, poll_seconds=0.1)
        everything = FeedFilter()
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                fake.store.deliver(USER, "INBOX", make_message(1, subject="Printer"))
                await wait_until(lambda: bob.count_tickets(everything) == 1, "bob")
                feed = app.screen.query_one(FeedList)
                for _ in range(100):
                    await pilot.pause(0.05)
                    if feed.row_at(0) is not None:
                        break
                first = feed.row_at(0)
                assert first is not None
                assert first.subject == "Printer"

                # Alice closes the ticket; Bob's console sees it.
                seen = bob.change_counter()
                await pilot.press("c")
                await pilot.pause()
                await wait_until(lambda: bob.change_counter() > seen, "bob's poll")
                (row,) = bob.list_tickets(everything, 0, 10)
                assert str(row.status) == "closed"
        finally:
            await engine.stop()
            await asyncio.wait_for(engine_task, 30)
            alice.store.close()
            bob.store.close()
            engine_store.close()

    events = engine_store_events()
    assert ("alice", "close") in events


def engine_store_events() -> list[tuple[str, str]]:
    with TicketStore.open(resolve_paths().store_file) as store:
        (ticket,) = store.list_tickets()
        return [(event.who, event.action) for event in store.ticket_events(ticket.id)]
