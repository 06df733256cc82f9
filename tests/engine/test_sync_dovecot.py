"""The sync engine end to end: a real Dovecot into the ticket store."""

from __future__ import annotations

import asyncio
import datetime as dt

from sagicc_tui.engine.runner import Engine
from sagicc_tui.mail.record import RecordFlag
from sagicc_tui.settings.models import AfterImport, ImportExisting
from sagicc_tui.store import ChannelStateName
from tests.engine.helpers import (
    Writer,
    dovecot_channel,
    make_message,
    open_store_and_secrets,
    wait_until,
)
from tests.support.dovecot import Dovecot


async def test_sync_once_imports_folder(dovecot: Dovecot) -> None:
    writer = Writer(dovecot)
    await writer.create("once")
    await writer.append("once", *(make_message(n) for n in range(1, 6)))
    channel = dovecot_channel(dovecot, "once")
    config, store, secrets = open_store_and_secrets([channel], dovecot.password)
    engine = Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
    )

    results = await engine.sync_once()
    again = await Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
    ).sync_once()

    assert results[channel.name].stored == 5
    assert again[channel.name].uids == 0
    assert store.count_tickets() == 5
    cursor = store.get_cursor(channel.name, "once")
    assert cursor is not None
    assert cursor.last_uid == 5
    state = store.channel_states()[0]
    assert state.state == ChannelStateName.IDLE


async def test_append_reaches_store_in_idle(dovecot: Dovecot) -> None:
    writer = Writer(dovecot)
    await writer.create("idle")
    channel = dovecot_channel(dovecot, "idle")
    config, store, secrets = open_store_and_secrets([channel], dovecot.password)
    engine = Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
    )
    task = asyncio.create_task(engine.run())

    await wait_until(
        lambda: engine.channels and engine.channels[channel.name].state == "idle",
        "the channel to go idle",
    )
    await writer.append("idle", make_message(1), make_message(2))
    await wait_until(lambda: store.count_tickets() == 2, "two tickets")
    await writer.append("idle", make_message(3))
    await wait_until(lambda: store.count_tickets() == 3, "a third ticket")
    await engine.stop()
    await asyncio.wait_for(task, 30)

    assert store.get_cursor(channel.name, "idle").last_uid == 3


async def test_uidvalidity_change_imports_nothing_twice(dovecot: Dovecot) -> None:
    writer = Writer(dovecot)
    await writer.create("rescan")
    await writer.append("rescan", make_message(1), make_message(2))
    channel = dovecot_channel(dovecot, "rescan")
    config, store, secrets = open_store_and_secrets([channel], dovecot.password)

    def engine() -> Engine:
        return Engine(
            config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
        )

    await engine().sync_once()
    cursor = store.get_cursor(channel.name, "rescan")
    # The server's folder now has a UIDVALIDITY the cursor does not know,
    # as after the folder was rebuilt; one message is new.
    store.set_cursor(channel.name, "rescan", cursor.uidvalidity + 1, 99)
    await writer.append("rescan", make_message(3))
    results = await engine().sync_once()

    assert results[channel.name].stored == 1
    assert results[channel.name].duplicates == 2
    assert store.count_tickets() == 3
    after = store.get_cursor(channel.name, "rescan")
    assert after.uidvalidity == cursor.uidvalidity
    assert after.last_uid == 3


async def test_first_sync_import_policies(dovecot: Dovecot) -> None:
    writer = Writer(dovecot)
    await writer.create("none")
    await writer.create("since")
    await writer.append("none", make_message(1))
    await writer.append("since", make_message(2))
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    nothing = dovecot_channel(dovecot, "none", import_existing=ImportExisting.nothing())
    later = dovecot_channel(
        dovecot, "since", import_existing=ImportExisting.since_date(tomorrow)
    )
    config, store, secrets = open_store_and_secrets([nothing, later], dovecot.password)
    engine = Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
    )

    results = await engine.sync_once()
    first_cursor = store.get_cursor(nothing.name, "none")
    await writer.append("none", make_message(3))
    second = await Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
    ).sync_once()

    assert results[nothing.name].stored == 0
    assert results[later.name].stored == 0
    assert first_cursor.last_uid == 1
    assert second[nothing.name].stored == 1
    assert store.count_tickets() == 1


async def test_after_import_actions(dovecot: Dovecot) -> None:
    writer = Writer(dovecot)
    for folder in ("seen", "move", "move-done", "delete"):
        await writer.create(folder)
    await writer.append("seen", make_message(10))
    await writer.append("move", make_message(11))
    await writer.append("delete", make_message(12))
    seen = dovecot_channel(dovecot, "seen", after_import=AfterImport.SEEN)
    move = dovecot_channel(
        dovecot, "move", after_import=AfterImport.MOVE, move_to_folder="move-done"
    )
    delete = dovecot_channel(dovecot, "delete", after_import=AfterImport.DELETE)
    config, store, secrets = open_store_and_secrets(
        [seen, move, delete], dovecot.password
    )
    engine = Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
    )

    results = await engine.sync_once()

    assert all(result.stored == 1 for result in results.values())
    assert await writer.search("seen", "SEEN") == [1]
    assert await writer.search("move", "ALL") == []
    assert len(await writer.search("move-done", "ALL")) == 1
    assert await writer.search("delete", "ALL") == []
    assert store.count_tickets() == 3


async def test_oversize_keeps_headers_only(dovecot: Dovecot) -> None:
    writer = Writer(dovecot)
    await writer.create("large")
    await writer.append("large", make_message(20, body="x" * 5000))
    channel = dovecot_channel(dovecot, "large", max_message_size=1000)
    config, store, secrets = open_store_and_secrets([channel], dovecot.password)
    engine = Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=0
    )

    await engine.sync_once()

    ticket = store.list_tickets()[0]
    message = store.ticket_messages(ticket.id)[0]
    assert str(RecordFlag.OVERSIZE) in message.flags
    assert message.size > 5000
    stored = store.get_message(message.id)
    assert b"xxxx" not in stored.raw


async def test_parse_in_worker_processes(dovecot: Dovecot) -> None:
    writer = Writer(dovecot)
    await writer.create("workers")
    await writer.append("workers", *(make_message(n) for n in range(100, 160)))
    channel = dovecot_channel(dovecot, "workers")
    config, store, secrets = open_store_and_secrets([channel], dovecot.password)
    engine = Engine(
        config, store, secrets, ca_file=str(dovecot.ca_file), parse_workers=1
    )

    results = await engine.sync_once()

    assert results[channel.name].stored == 60
    assert store.count_tickets() == 60
    assert store.search("Hello")
