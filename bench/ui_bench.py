"""Console start-up and live-update times with 100,000 tickets stored.

Fills a temporary store with tickets (no messages: the feed reads only the
tickets table), then runs the console headless and prints:

- the time from creating the app to the first feed row painted;
- the time from the console's poll noticing a new message to the feed's
  top row painted with it (median and worst of N updates). The poll
  interval itself (0.5 s) comes on top.

Run: .venv/bin/python bench/ui_bench.py [--tickets 100000] [--updates 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

START_TARGET_S = 1.5
UPDATE_TARGET_MS = 50.0


def fill_store(home: Path, tickets: int) -> None:
    """Write ``tickets`` open tickets over 4 channels with spread activity."""
    from sagicc_tui.paths import resolve_paths
    from sagicc_tui.settings import Config, IncomingChannel, save_config
    from sagicc_tui.store import TicketStore
    from sagicc_tui.store.rows import NewTicket, insert_ticket

    paths = resolve_paths({"SAGICC_HOME": str(home)}).ensure()
    channels = [
        IncomingChannel(name=f"channel-{i}", host="127.0.0.1", username=f"user{i}")
        for i in range(4)
    ]
    save_config(Config(incoming=tuple(channels)), paths.config_file)
    store = TicketStore.open(paths.store_file)
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    ids = [store.ensure_channel(c.name) for c in channels]
    with store.write_transaction() as conn:
        for n in range(tickets):
            insert_ticket(
                conn,
                NewTicket(
                    channel_id=ids[n % 4],
                    customer_addr=f"customer{n % 5000}@mail.example",
                    customer_name=f"Customer {n % 5000}",
                    subject=f"Question number {n} about order {n * 7 % 99991}",
                    normalized_subject=f"question number {n}",
                    at=start + n * 60,
                ),
            )
    store.close()


def new_message(number: int) -> bytes:
    date = (datetime.now(UTC) + timedelta(seconds=number)).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )
    return (
        f"From: New Customer <new{number}@mail.example>\r\n"
        "To: support@shop.example\r\n"
        f"Subject: Fresh question {number}\r\n"
        f"Date: {date}\r\n"
        f"Message-ID: <bench-{number}@mail.example>\r\n"
        "\r\nHello.\r\n"
    ).encode()


async def measure(home: Path, updates: int) -> tuple[float, list[float]]:
    from sagicc_tui.paths import resolve_paths
    from sagicc_tui.store import TicketStore
    from sagicc_tui.store.ingest import IngestParams, ingest
    from sagicc_tui.ui.app import SagiccApp
    from sagicc_tui.ui.channel_settings import ChannelSettings
    from sagicc_tui.ui.store_backend import StoreBackend
    from sagicc_tui.ui.widgets.feed_list import FeedList

    paths = resolve_paths({"SAGICC_HOME": str(home)})
    painted: list[float] = []
    # Subject the top row must show before an update counts as repainted.
    expected = {"subject": None}
    original = FeedList.render_line

    def timed_render_line(self: FeedList, y: int):  # noqa: ANN202
        strip = original(self, y)
        if not self.count or y + int(self.scroll_y) != 0:
            return strip
        top = self.row_at(0)
        if expected["subject"] is None or top.subject == expected["subject"]:
            painted.append(time.perf_counter())
            expected["subject"] = ""
        return strip

    FeedList.render_line = timed_render_line  # type: ignore[method-assign]

    started = time.perf_counter()
    store = TicketStore.open(paths.store_file)
    backend = StoreBackend(store, ChannelSettings(paths), operator="bench")
    app = SagiccApp(backend, poll_seconds=3600)
    repaints: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        while not painted:
            await pilot.pause(0.01)
        startup = painted[0] - started
        writer = TicketStore.open(paths.store_file)
        params = IngestParams(channel="channel-0")
        for number in range(updates):
            await pilot.pause(0.2)  # let the previous notification settle
            ingest(writer, params, [new_message(number)])
            painted.clear()
            expected["subject"] = f"Fresh question {number}"
            t0 = time.perf_counter()
            app.poll_store()
            while not painted:
                await asyncio.sleep(0.001)
            repaints.append((painted[0] - t0) * 1000)
        writer.close()
    store.close()
    return startup, repaints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=20)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sagicc-ui-bench-") as folder:
        home = Path(folder)
        os.environ["SAGICC_HOME"] = str(home)
        t0 = time.perf_counter()
        fill_store(home, args.tickets)
        print(f"filled {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        import sagicc_tui.ui.app  # noqa: F401  (imports count toward start-up)

        imports = time.perf_counter() - t0
        startup, repaints = asyncio.run(measure(home, args.updates))

    print(f"imports: {imports:.2f} s")
    print(
        f"start-up to first feed row painted: {startup:.2f} s "
        f"(with imports {startup + imports:.2f} s; target < {START_TARGET_S} s)"
    )
    print(
        f"repaint after a new message: median {statistics.median(repaints):.1f} ms, "
        f"max {max(repaints):.1f} ms over {len(repaints)} "
        f"(target < {UPDATE_TARGET_MS:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
