"""``sagicc sync`` end to end as a subprocess against fakemail."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from sagicc_tui.cli.main import main
from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import (
    PASSWORD,
    Config,
    FileSecretStore,
    save_config,
    secret_key,
)
from sagicc_tui.settings.models import IncomingChannel
from sagicc_tui.store import TicketStore, acquire_engine_lock
from tests.engine.fakemail_support import PASSWORD as FAKE_PASSWORD
from tests.engine.fakemail_support import USER, FakeImap, fake_imap
from tests.engine.helpers import make_message, wait_until


def configure(fake: FakeImap) -> None:
    paths = resolve_paths().ensure()
    channel = fake.channel("support")
    save_config(Config(incoming=(channel,)), paths.config_file)
    secrets = FileSecretStore(paths.secrets_dir)
    secrets.set(secret_key(channel.name, PASSWORD), FAKE_PASSWORD)


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sagicc_tui.cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_sync_once_prints_counts(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        for number in (1, 2):
            fake.store.deliver(USER, "INBOX", make_message(number))
        configure(fake)
        code, out, err = await run_cli("sync", "--once")

    assert code == 0, err
    assert "support: 2 new message(s) stored, 0 already known" in out
    with TicketStore.open() as store:
        assert store.count_tickets() == 2


async def test_sync_once_names_import_window(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        fake.store.deliver(USER, "INBOX", make_message(1))
        configure(fake)
        _, first, _ = await run_cli("sync", "--once")
        _, second, _ = await run_cli("sync", "--once")

    window = "first sync: imported all mail already in the folder"
    assert window in first
    assert "first sync" not in second
    assert "support: 0 new message(s) stored" in second


async def test_sync_service_stops_on_sigterm(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        fake.store.deliver(USER, "INBOX", make_message(1))
        configure(fake)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sagicc_tui.cli.main",
            "sync",
            stderr=asyncio.subprocess.PIPE,
        )
        store = TicketStore.open()
        await wait_until(lambda: store.count_tickets() == 1, "the first ticket")
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        store.close()

    assert code == 0
    assert acquire_engine_lock() is not None


def test_sync_refuses_second_engine(capsys: pytest.CaptureFixture[str]) -> None:
    paths = resolve_paths().ensure()
    channel = IncomingChannel(name="x", host="127.0.0.1", port=1, username="u")
    save_config(Config(incoming=(channel,)), paths.config_file)
    TicketStore.open(paths=paths).close()
    held = acquire_engine_lock(paths)

    code = main(["sync", "--once"])
    held.release()

    assert code == 3
    assert "another engine" in capsys.readouterr().err


def test_sync_without_channels(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sync", "--once"])

    assert code == 2
    assert "no channels" in capsys.readouterr().err
