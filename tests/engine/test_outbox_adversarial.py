"""Outbox failures outside SMTP still leave each message visible and retried."""

from __future__ import annotations

import random
import shlex

from sagicc_tui.engine.outbox import OutboxWorker
from sagicc_tui.settings import FileSecretStore, SecretStoreError
from sagicc_tui.settings.models import Config
from sagicc_tui.store import OutboxState
from tests.engine.test_outbox import later_clock, outgoing, queue
from tests.engine.test_outbox import store as store  # noqa: F401 - fixture
from tests.support.ports import free_port


class BrokenSecrets:
    """A secret store whose file or keyring cannot be read."""

    def get(self, key: str) -> str | None:
        raise SecretStoreError("cannot read the secrets file: damaged")

    def set(self, key: str, value: str) -> None:
        raise SecretStoreError("cannot write the secrets file")

    def delete(self, key: str) -> None:
        raise SecretStoreError("cannot write the secrets file")


async def test_unreadable_secrets_mark_failed(store) -> None:  # noqa: F811
    clock = later_clock()
    config = Config(outgoing=(outgoing(free_port(), username="agent"),))
    worker = OutboxWorker(
        store, config, BrokenSecrets(), clock=clock, rng=random.Random(1)
    )
    first = queue(store)
    second = queue(store)

    sent = await worker.send_due()

    assert sent == 0
    items = {item.id: item for item in store.outbox()}
    for outbox_id in (first, second):
        assert items[outbox_id].state == OutboxState.FAILED
        assert "secrets file" in (items[outbox_id].last_error or "")
        assert items[outbox_id].next_attempt_at is not None


async def test_unexpected_sender_error_mark_failed(store) -> None:  # noqa: F811
    async def broken(*args: object) -> str:
        raise RuntimeError("bug in the sender")

    config = Config(outgoing=(outgoing(free_port()),))
    worker = OutboxWorker(
        store, config, BrokenSecrets(), clock=later_clock(), sender=broken
    )
    outbox_id = queue(store)

    assert await worker.send_due() == 0

    (item,) = store.outbox()
    assert item.id == outbox_id
    assert item.state == OutboxState.FAILED
    assert "bug in the sender" in (item.last_error or "")


async def test_missing_password_hint_pastes(store, tmp_path) -> None:  # noqa: F811
    config = Config(outgoing=(outgoing(free_port(), name="Mail EU", username="a"),))
    worker = OutboxWorker(
        store, config, FileSecretStore(tmp_path / "secrets"), clock=later_clock()
    )
    store.queue_outgoing(
        outgoing_channel="Mail EU",
        raw=b"Subject: x\r\nMessage-ID: <eu-1@acme.test>\r\n\r\nx\r\n",
        mail_from="support@acme.test",
        rcpt_to=["ann@customer.test"],
        who="operator",
    )

    await worker.send_due()

    (item,) = store.outbox()
    error = item.last_error or ""
    command = error[error.index("sagicc channels edit") :]
    assert shlex.split(command) == [
        "sagicc",
        "channels",
        "edit",
        "Mail EU",
        "--set-secret",
    ]
