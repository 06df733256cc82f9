"""``fakemail serve`` and ``fakemail outbox`` as subprocesses, with real clients."""

from __future__ import annotations

import imaplib
import json
import os
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakemail.conftest import SCENARIOS
from tests.support.ports import free_port

FAKEMAIL = [sys.executable, "-m", "fakemail.cli"]
PASSWORD = "basic-support-password"


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("FAKEMAIL_STATE", None)
    return environment


@pytest.fixture
def served(tmp_path: Path):
    state = tmp_path / "state"
    process = subprocess.Popen(
        [
            *FAKEMAIL,
            "serve",
            str(SCENARIOS / "basic"),
            "--json",
            "--state-dir",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        yield process, json.loads(line), state
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _outbox(state: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FAKEMAIL, "outbox", "--state-dir", str(state), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        env=_environment(),
    )


def test_serve_json_clients_and_clean_exit(served) -> None:
    process, info, state = served
    ports = {listener["name"]: listener["port"] for listener in info["listeners"]}
    assert info["host"] == "127.0.0.1"
    assert info["accounts"][0]["username"] == "support@example.test"
    context = ssl.create_default_context(cafile=info["ca_path"])

    imap = imaplib.IMAP4_SSL("127.0.0.1", ports["imap"], ssl_context=context, timeout=5)
    imap.login("support@example.test", PASSWORD)
    status, data = imap.select("INBOX", readonly=True)
    assert status == "OK"
    assert int(data[0]) >= 8
    imap.logout()

    with smtplib.SMTP_SSL(
        "127.0.0.1", ports["smtp"], context=context, timeout=5
    ) as smtp:
        smtp.login("support@example.test", PASSWORD)
        smtp.sendmail(
            "support@example.test",
            ["erin@customer.example"],
            b"Subject: Re: Refund\r\nMessage-ID: <cli-1@example.test>\r\n\r\nSent.\r\n",
        )

    listed = _outbox(state, "--json")
    assert listed.returncode == 0, listed.stderr
    [summary] = json.loads(listed.stdout)
    assert summary["rcpt_tos"] == ["erin@customer.example"]
    assert summary["subject"] == "Re: Refund"
    assert summary["authenticated_user"] == "support@example.test"

    shown = _outbox(state, summary["id"])
    assert shown.returncode == 0
    assert "Message-ID: <cli-1@example.test>" in shown.stdout

    plain = _outbox(state)
    assert (
        f"{summary['id']}  support@example.test -> erin@customer.example"
        in plain.stdout
    )

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0

    transcript = Path(info["transcript"]).read_text()
    assert "LOGIN" in transcript
    assert "AUTH PLAIN" in transcript
    assert PASSWORD not in transcript


def test_serve_stops_on_sigterm(served) -> None:
    process, _, _ = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_serve_rejects_invalid_scenario(tmp_path: Path) -> None:
    (tmp_path / "scenario.toml").write_text("[[accounts]]\nusername = 1\n")
    result = subprocess.run(
        [*FAKEMAIL, "serve", str(tmp_path), "--state-dir", str(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=30,
        env=_environment(),
    )
    assert result.returncode == 2
    assert "key 'username'" in result.stderr
    assert "Traceback" not in result.stderr


def test_outbox_needs_state_dir() -> None:
    result = subprocess.run(
        [*FAKEMAIL, "outbox"],
        capture_output=True,
        text=True,
        timeout=30,
        env=_environment(),
    )
    assert result.returncode == 2
    assert "--state-dir" in result.stderr


def test_outbox_unknown_id(tmp_path: Path) -> None:
    result = _outbox(tmp_path, "000042")
    assert result.returncode == 1
    assert "no outbox message '000042'" in result.stderr


def test_serve_speed_runs_timeline_and_prints_summary(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            *FAKEMAIL,
            "serve",
            str(SCENARIOS / "basic"),
            "--speed",
            "1000",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    try:
        lines = [process.stdout.readline() for _ in range(9)]
        text = "".join(lines)
        assert "fakemail serving scenario 'basic'" in text
        assert "imaps://127.0.0.1:" in text
        assert "smtps://127.0.0.1:" in text
        assert "support@example.test  password basic-support-password" in text
        assert f"CA file:    {tmp_path / 'state' / 'tls' / 'ca.pem'}" in text
        port = int(text.split("imaps://127.0.0.1:")[1].split()[0])

        # At 1000x the step due at 5 scenario seconds runs after 5 ms.
        context = ssl.create_default_context(
            cafile=str(tmp_path / "state" / "tls" / "ca.pem")
        )
        imap = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context, timeout=5)
        imap.login("support@example.test", PASSWORD)
        count = 0
        for _ in range(50):
            count = int(imap.select("INBOX", readonly=True)[1][0])
            if count == 9:
                break
            imap.noop()
        imap.logout()
        assert count == 9
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    assert process.stderr.read().strip().endswith("fakemail stopped")
    assert "fakemail stopped" not in process.stdout.read()


def test_serve_uses_requested_ports(tmp_path: Path) -> None:
    imap_port, smtp_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            *FAKEMAIL,
            "serve",
            str(SCENARIOS / "basic"),
            "--json",
            "--imap-port",
            str(imap_port),
            "--smtp-port",
            str(smtp_port),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    try:
        info = json.loads(process.stdout.readline())
        ports = {item["name"]: item["port"] for item in info["listeners"]}
        assert ports == {"imap": imap_port, "smtp": smtp_port}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_serve_reports_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                *FAKEMAIL,
                "serve",
                str(SCENARIOS / "basic"),
                "--smtp-port",
                str(port),
                "--state-dir",
                str(tmp_path / "state"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            env=_environment(),
        )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("already in use") == 1


def _run(*arguments: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [*FAKEMAIL, *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        env=env or _environment(),
    )


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--imap-port", "99999"), ("--imap-port", "-1"), ("--smtp-port", "70000")],
)
def test_serve_rejects_out_of_range_port(flag: str, value: str) -> None:
    result = _run("serve", str(SCENARIOS / "basic"), flag, value)
    assert result.returncode == 2
    assert f"invalid port '{value}'" in result.stderr
    assert "0 to 65535" in result.stderr
    assert "Traceback" not in result.stderr


def _temporary_state_dirs(root: Path) -> set[Path]:
    return set(root.glob("fakemail-*"))


def test_failed_serve_removes_own_temporary_folder(tmp_path: Path) -> None:
    environment = _environment()
    environment["TMPDIR"] = str(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        busy_port = _run(
            "serve", str(SCENARIOS / "basic"), "--imap-port", port, env=environment
        )
    missing = _run("serve", str(tmp_path / "missing"), env=environment)
    assert busy_port.returncode == 1
    assert missing.returncode == 2
    assert _temporary_state_dirs(tmp_path) == set()


def test_failed_serve_keeps_given_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    result = _run("serve", str(tmp_path / "missing"), "--state-dir", str(state))
    assert result.returncode == 2
    assert state.is_dir()


def test_outbox_reports_missing_state_dir(tmp_path: Path) -> None:
    result = _outbox(tmp_path / "typo")
    assert result.returncode == 2
    assert f"state folder not found: {tmp_path / 'typo'}" in result.stderr
    assert "no messages" not in result.stdout


def test_outbox_help_says_state_dir_required() -> None:
    result = _run("outbox", "--help")
    assert "required unless $FAKEMAIL_STATE is set" in " ".join(result.stdout.split())
    assert "temporary" not in result.stdout


def test_version_flag() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("fakemail ")


def test_closed_stdout_exits_quietly(tmp_path: Path) -> None:
    # As in `fakemail outbox --json | head -c 5`, with a reader that left.
    process = subprocess.Popen(
        [*FAKEMAIL, "outbox", "--state-dir", str(tmp_path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=30) == 141
    assert stderr == ""
