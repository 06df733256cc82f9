"""The running engine acknowledges new tickets through the outgoing channel."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from pathlib import Path

from sagicc_tui.engine.clock import ManualClock
from sagicc_tui.engine.runner import Engine
from sagicc_tui.settings import PASSWORD as PASSWORD_SECRET
from sagicc_tui.settings import secret_key
from tests.engine.fakemail_support import PASSWORD, USER, fake_imap, fake_smtp
from tests.engine.helpers import make_message, open_store_and_secrets, wait_until


async def test_engine_acknowledges_new_ticket(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as imap, fake_smtp(tmp_path) as smtp:
        outgoing = smtp.channel("replies", sender_address="help@example.test")
        incoming = imap.channel(
            "support", acknowledge_new_tickets=True, outgoing_channel="replies"
        )
        config, store, secrets = open_store_and_secrets([incoming], PASSWORD)
        config = replace(config, outgoing=(outgoing,))
        secrets.set(secret_key("replies", PASSWORD_SECRET), PASSWORD)
        engine = Engine(
            config,
            store,
            secrets,
            clock=ManualClock(),
            parse_workers=0,
            rng=random.Random(3),
        )
        task = asyncio.create_task(engine.run())
        try:
            imap.store.deliver(USER, "INBOX", make_message(1))
            await wait_until(lambda: len(store.outbox()) == 1, "the queued ack")
            # The worker sleeps on the manual clock, so the test sends now.
            await engine.outbox.send_due()
        finally:
            await engine.stop()
            await asyncio.wait_for(task, 30)

        (record,) = smtp.outbox.records()
        assert list(record.rcpt_tos) == ["customer@example.test"]
        assert record.header("Auto-Submitted") == "auto-replied"
        assert record.header("X-Auto-Response-Suppress") == "All"
        assert record.header("In-Reply-To") == "<msg-1@example.test>"
        assert "[#1]" in (record.header("Subject") or "")


async def test_engine_skips_ack_when_disabled(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as imap, fake_smtp(tmp_path) as smtp:
        outgoing = smtp.channel("replies", sender_address="help@example.test")
        incoming = imap.channel("support", outgoing_channel="replies")
        config, store, secrets = open_store_and_secrets([incoming], PASSWORD)
        config = replace(config, outgoing=(outgoing,))
        secrets.set(secret_key("replies", PASSWORD_SECRET), PASSWORD)
        engine = Engine(config, store, secrets, clock=ManualClock(), parse_workers=0)
        task = asyncio.create_task(engine.run())
        try:
            imap.store.deliver(USER, "INBOX", make_message(1))
            await wait_until(lambda: store.count_tickets() == 1, "the ticket")
            await engine.outbox.send_due()
        finally:
            await engine.stop()
            await asyncio.wait_for(task, 30)

        assert smtp.outbox.records() == []
        assert store.outbox() == []
