"""The connection test's reports for IMAP and SMTP channels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sagicc_tui.engine.conntest import ConnectionReport, run_connection_test
from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import PASSWORD, FileSecretStore, secret_key
from sagicc_tui.settings.models import Encryption, IncomingChannel
from tests.engine.fakemail_support import PASSWORD as FAKE_PASSWORD
from tests.engine.fakemail_support import USER, fake_imap, fake_smtp
from tests.engine.helpers import make_message
from tests.support.dovecot import Dovecot
from tests.support.ports import free_port


def secrets_with(name: str, password: str = FAKE_PASSWORD) -> FileSecretStore:
    secrets = FileSecretStore(resolve_paths().ensure().secrets_dir)
    secrets.set(secret_key(name, PASSWORD), password)
    return secrets


def names(report: ConnectionReport) -> list[str]:
    return [step.name for step in report.steps]


@pytest.mark.parametrize("mode", ["ssl", "starttls", "none"])
async def test_imap_each_mode_passes(tmp_path: Path, mode: str) -> None:
    async with fake_imap(tmp_path, mode) as fake:
        fake.store.deliver(USER, "INBOX", make_message(1))
        channel = fake.channel()
        seen: list[str] = []
        report = await run_connection_test(
            channel, secrets_with(channel.name), on_step=lambda s: seen.append(s.name)
        )
        sent = fake.client_lines()

    second = {"ssl": "TLS handshake", "starttls": "STARTTLS", "none": "Encryption"}
    expected = ["Resolve host", "Connect", second[mode], "Sign in", "Open folder"]
    assert report.passed
    assert names(report) == expected
    assert seen == expected
    assert "1 message" in report.steps[-1].detail
    assert any("EXAMINE" in line.upper() for line in sent)
    assert not any(" SELECT " in line.upper() for line in sent)
    if mode == "none":
        assert "in clear" in report.steps[2].detail


async def test_imap_wrong_password(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.channel()
        report = await run_connection_test(channel, secrets_with(channel.name, "bad"))

    failed = report.steps[-1]
    assert not report.passed
    assert failed.name == "Sign in"
    assert "AUTHENTICATIONFAILED" in failed.server_text
    assert "app password" in failed.fix


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
async def test_imap_expired_certificate(tmp_path: Path, mode: str) -> None:
    async with fake_imap(tmp_path, mode, variant="expired") as fake:
        channel = fake.channel()
        report = await run_connection_test(channel, secrets_with(channel.name))
        relaxed = await run_connection_test(
            replace(channel, validate_certificates=False), secrets_with(channel.name)
        )

    failed = report.steps[-1]
    assert failed.name == ("TLS handshake" if mode == "ssl" else "STARTTLS")
    assert "expired" in failed.detail
    assert "only if you administer this server" in failed.fix
    assert relaxed.passed
    assert "NOT checked" in relaxed.steps[2].detail


async def test_imap_missing_starttls(tmp_path: Path) -> None:
    async with fake_imap(tmp_path, "starttls", disabled=("STARTTLS",)) as fake:
        channel = fake.channel()
        report = await run_connection_test(channel, secrets_with(channel.name))

    failed = report.steps[-1]
    assert failed.name == "STARTTLS"
    assert "does not offer STARTTLS" in failed.detail
    assert "Sign in" not in names(report)


async def test_imap_missing_folder(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.channel(folder="Nowhere")
        report = await run_connection_test(channel, secrets_with(channel.name))

    failed = report.steps[-1]
    assert failed.name == "Open folder"
    assert "Nowhere" in failed.detail
    assert failed.server_text


async def test_imap_missing_password(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.channel()
        secrets = FileSecretStore(resolve_paths().ensure().secrets_dir)
        report = await run_connection_test(channel, secrets)

    failed = report.steps[-1]
    assert failed.name == "Sign in"
    assert "sagicc channels edit fake" in failed.fix


async def test_connection_refused(tmp_path: Path) -> None:
    async with fake_imap(tmp_path) as fake:
        channel = fake.channel(port=free_port())
        report = await run_connection_test(channel, secrets_with(channel.name))

    assert names(report) == ["Resolve host", "Connect"]
    assert not report.steps[-1].passed


@pytest.mark.parametrize("mode", ["ssl", "starttls", "none"])
async def test_smtp_each_mode_passes(tmp_path: Path, mode: str) -> None:
    async with fake_smtp(tmp_path, mode) as fake:
        channel = fake.channel()
        report = await run_connection_test(channel, secrets_with(channel.name))

    assert report.passed, report.steps
    assert names(report)[-1] == "Authenticate"
    assert "EHLO" in names(report)
    assert len(fake.outbox.records()) == 0


async def test_smtp_missing_starttls(tmp_path: Path) -> None:
    async with fake_smtp(tmp_path, "starttls", disabled=("STARTTLS",)) as fake:
        channel = fake.channel()
        report = await run_connection_test(channel, secrets_with(channel.name))

    failed = report.steps[-1]
    assert failed.name == "STARTTLS"
    assert "does not offer STARTTLS" in failed.detail
    assert "Authenticate" not in names(report)


async def test_smtp_wrong_password(tmp_path: Path) -> None:
    async with fake_smtp(tmp_path, "ssl") as fake:
        channel = fake.channel()
        report = await run_connection_test(channel, secrets_with(channel.name, "bad"))

    failed = report.steps[-1]
    assert failed.name == "Authenticate"
    assert failed.server_text.startswith("535")


async def test_smtp_wrong_host_certificate(tmp_path: Path) -> None:
    async with fake_smtp(tmp_path, "ssl", variant="wrong-host") as fake:
        channel = fake.channel()
        report = await run_connection_test(channel, secrets_with(channel.name))

    failed = report.steps[-1]
    assert failed.name == "TLS handshake"
    assert "not valid for the host name 127.0.0.1" in failed.detail


async def test_imap_against_dovecot_starttls(dovecot: Dovecot) -> None:
    channel = IncomingChannel(
        name="dovecot-test",
        host="127.0.0.1",
        port=dovecot.imap_port,
        encryption=Encryption.STARTTLS,
        ca_file=str(dovecot.ca_file),
        username=dovecot.username,
    )
    secrets = secrets_with(channel.name, dovecot.password)

    report = await run_connection_test(channel, secrets)

    assert report.passed, report.steps
    assert "AUTHENTICATE PLAIN" in report.steps[3].detail
