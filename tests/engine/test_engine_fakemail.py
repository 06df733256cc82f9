"""The engine against fakemail: IDLE, polling, faults, backoff and sign-in states."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from fakemail.faults import FaultAction, FaultRule
from sagicc_tui.engine.clock import ManualClock
from sagicc_tui.engine.errors import CommandFailed
from sagicc_tui.engine.folder_sync import FolderSync
from sagicc_tui.engine.runner import Engine
from sagicc_tui.engine.sync import IDLE_RENEW_SECONDS, ChannelSync
from sagicc_tui.engine.tokens import StoredTokenProvider
from sagicc_tui.settings import OAUTH_ACCESS_TOKEN, secret_key
from sagicc_tui.settings import PASSWORD as PASSWORD_SECRET
from sagicc_tui.settings.models import IncomingChannel
from sagicc_tui.store import ChannelStateName
from sagicc_tui.store.ingest import IngestParams
from tests.engine.fakemail_support import (
    EXPIRED_TOKEN,
    PASSWORD,
    USER,
    FakeImap,
    fake_imap,
)
from tests.engine.helpers import make_message, open_store_and_secrets, wait_until


@asynccontextmanager
async def running(
    channel: IncomingChannel, *, password: str = PASSWORD, token: str = ""
) -> AsyncIterator[tuple[Engine, ManualClock]]:
    config, store, secrets = open_store_and_secrets([channel], password)
    if token:
        secrets.set(secret_key(channel.name, OAUTH_ACCESS_TOKEN), token)
    clock = ManualClock()
    engine = Engine(
        config,
        store,
        secrets,
        clock=clock,
        parse_workers=0,
        rng=random.Random(7),
        run_outbox=False,
    )
    task = asyncio.create_task(engine.run())
    try:
        await wait_until(lambda: channel.name in engine.channels, "the engine")
        yield engine, clock
    finally:
        await engine.stop()
        await asyncio.wait_for(task, 30)


def state_of(engine: Engine, name: str) -> ChannelStateName:
    return engine.channels[name].state


async def wait_state(engine: Engine, name: str, state: ChannelStateName) -> None:
    await wait_until(lambda: state_of(engine, name) == state, f"{name} {state}")


def deliver(fake: FakeImap, *numbers: int) -> None:
    for number in numbers:
        fake.store.deliver(USER, "INBOX", make_message(number))


async def test_idle_delivers_new_mail(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        deliver(fake, 1)
        channel = fake.channel()
        async with running(channel) as (engine, _clock):
            await wait_state(engine, channel.name, ChannelStateName.IDLE)
            deliver(fake, 2, 3)
            await wait_until(lambda: engine.store.count_tickets() == 3, "3 tickets")

    assert fake.commands("IDLE") >= 2


async def test_idle_renewed_before_30_minutes(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.channel()
        async with running(channel) as (engine, clock):
            await wait_state(engine, channel.name, ChannelStateName.IDLE)
            await wait_until(lambda: fake.commands("IDLE") == 1, "first IDLE")
            await clock.wait_for_sleepers()
            await clock.advance(IDLE_RENEW_SECONDS)
            await wait_until(lambda: fake.commands("IDLE") == 2, "renewed IDLE")

    assert IDLE_RENEW_SECONDS < 29 * 60
    assert fake.commands("DONE") >= 1


async def test_polls_without_idle(tmp_path: Path) -> None:
    async with fake_imap(tmp_path, disabled=("IDLE",)) as fake:
        channel = fake.channel(poll_interval=90)
        async with running(channel) as (engine, clock):
            await wait_state(engine, channel.name, ChannelStateName.IDLE)
            await clock.wait_for_sleepers()
            deliver(fake, 1)
            await clock.advance(90)
            await wait_until(lambda: engine.store.count_tickets() == 1, "a ticket")

    assert clock.sleeps[0] == 90
    assert fake.commands("IDLE") == 0


async def test_bye_backs_off_then_reconnects(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        fake.faults.add(FaultRule("SELECT", FaultAction.BYE, times=2))
        deliver(fake, 1)
        channel = fake.channel()
        async with running(channel) as (engine, clock):
            await wait_state(engine, channel.name, ChannelStateName.BACKING_OFF)
            await clock.wait_for_sleepers()
            first = clock.sleeps[-1]
            stored = engine.store.channel_states()[0]
            await clock.advance(first)
            await wait_until(lambda: len(clock.sleeps) == 2, "a second backoff")
            second = clock.sleeps[-1]
            await clock.advance(second)
            await wait_state(engine, channel.name, ChannelStateName.IDLE)

    assert 1.0 <= first <= 2.0
    assert 2.0 <= second <= 4.0
    assert stored.state == ChannelStateName.BACKING_OFF
    assert stored.until is not None
    assert "closed the connection" in stored.error
    assert engine.store.count_tickets() == 1


async def test_drop_mid_fetch_imports_once(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        deliver(fake, 1, 2, 3)
        # The second UID FETCH is the first body fetch (the first reads sizes).
        fake.faults.add(FaultRule("UID FETCH", FaultAction.CUT_LITERAL, nth=2))
        channel = fake.channel()
        async with running(channel) as (engine, clock):
            await wait_state(engine, channel.name, ChannelStateName.BACKING_OFF)
            await clock.wait_for_sleepers()
            await clock.advance(clock.sleeps[-1])
            await wait_state(engine, channel.name, ChannelStateName.IDLE)

    assert engine.store.count_tickets() == 3
    cursor = engine.store.get_cursor(channel.name, "INBOX")
    assert cursor.last_uid == 3


async def test_uidvalidity_change_while_idle(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        deliver(fake, 1, 2)
        channel = fake.channel()
        async with running(channel) as (engine, clock):
            await wait_state(engine, channel.name, ChannelStateName.IDLE)
            before = engine.store.get_cursor(channel.name, "INBOX")
            fake.store.reset_uidvalidity(USER, "INBOX")
            deliver(fake, 3)
            await wait_state(engine, channel.name, ChannelStateName.BACKING_OFF)
            await clock.wait_for_sleepers()
            await clock.advance(clock.sleeps[-1])
            await wait_until(lambda: engine.store.count_tickets() == 3, "3 tickets")
            await wait_state(engine, channel.name, ChannelStateName.IDLE)
            after = engine.store.get_cursor(channel.name, "INBOX")

    assert after.uidvalidity != before.uidvalidity
    assert after.last_uid == 3
    assert engine.store.count_tickets() == 3


async def test_expired_token_needs_sign_in(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.oauth_channel()
        async with running(channel, token=EXPIRED_TOKEN) as (engine, _clock):
            await wait_state(engine, channel.name, ChannelStateName.SIGN_IN_NEEDED)
            stored = engine.store.channel_states()[0]
        sent = fake.client_lines()

    assert "OAuth access token" in stored.error
    assert not any(" LOGIN " in line.upper() for line in sent)


async def test_missing_starttls_fails_channel(tmp_path: Path) -> None:
    async with fake_imap(tmp_path, "starttls", disabled=("STARTTLS",)) as fake:
        channel = fake.channel()
        async with running(channel) as (engine, clock):
            await wait_state(engine, channel.name, ChannelStateName.FAILED)
            stored = engine.store.channel_states()[0]

    assert "STARTTLS" in stored.error
    assert stored.until is not None


async def test_wrong_password_fails_channel(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.channel()
        async with running(channel, password="not-it") as (engine, _clock):
            await wait_state(engine, channel.name, ChannelStateName.FAILED)
            stored = engine.store.channel_states()[0]

    assert "AUTHENTICATIONFAILED" in stored.error
    assert "not-it" not in stored.error


async def test_reload_starts_and_stops_channels(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        fake.store.create_folder(USER, "Sales")
        fake.store.deliver(USER, "Sales", make_message(50))
        deliver(fake, 1)
        support = fake.channel("support")
        sales = fake.channel("sales", folder="Sales")
        async with running(support) as (engine, _clock):
            await wait_state(engine, "support", ChannelStateName.IDLE)
            engine.secrets.set(secret_key("sales", PASSWORD_SECRET), PASSWORD)
            await engine.reload(replace(engine.config, incoming=(support, sales)))
            await wait_until(lambda: engine.store.count_tickets() == 2, "2 tickets")
            await engine.reload(replace(engine.config, incoming=(sales,)))
            remaining = set(engine.channels)

    assert remaining == {"sales"}
    assert engine.store.get_cursor("sales", "Sales").last_uid == 1


async def test_stopping_keeps_cursor_on_stored_batches(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        deliver(fake, *range(1, 151))
        channel = fake.channel()
        config, store, secrets = open_store_and_secrets([channel], PASSWORD)
        checks: list[bool] = []

        def stop_after_one_batch() -> bool:
            checks.append(True)
            return len(checks) > 1

        params = IngestParams.from_channel(channel)
        folder = FolderSync(
            channel, store, params, clock=ManualClock(), stopping=stop_after_one_batch
        )
        client = await ChannelSync(
            channel, store, secrets, params, tokens=StoredTokenProvider(secrets)
        ).connect()
        status = await client.select("INBOX")
        partial = await folder.run_pass(client, status)
        cursor_after_stop = store.get_cursor(channel.name, "INBOX")
        rest = await FolderSync(channel, store, params, clock=ManualClock()).run_pass(
            client, status
        )
        await client.logout()

    assert partial.stored == 100
    assert cursor_after_stop.last_uid == 100
    assert rest.stored == 50
    assert store.get_cursor(channel.name, "INBOX").last_uid == 150


async def test_fetch_ok_without_bodies_fails(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        deliver(fake, 1, 2)
        channel = fake.channel()
        config, store, secrets = open_store_and_secrets([channel], PASSWORD)
        params = IngestParams.from_channel(channel)
        client = await ChannelSync(
            channel, store, secrets, params, tokens=StoredTokenProvider(secrets)
        ).connect()
        status = await client.select("INBOX")
        real_fetch = client.uid_fetch

        async def fetch_without_bodies(uids: str, items: str) -> list:
            fetched = await real_fetch(uids, items)
            # The server's tagged OK arrives, but the bodies never did.
            return [] if "BODY.PEEK" in items else fetched

        client.uid_fetch = fetch_without_bodies  # type: ignore[method-assign]
        folder = FolderSync(channel, store, params, clock=ManualClock())
        with pytest.raises(CommandFailed) as caught:
            await folder.run_pass(client, status)
        cursor_after_failure = store.get_cursor(channel.name, "INBOX")
        client.uid_fetch = real_fetch  # type: ignore[method-assign]
        result = await folder.run_pass(client, status)
        await client.logout()

    assert "returned OK to UID FETCH but not the messages" in str(caught.value)
    assert cursor_after_failure is None
    assert result.stored == 2
    assert store.get_cursor(channel.name, "INBOX").last_uid == 2
