"""``sagicc channels test`` against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sagicc_tui.cli.main import main
from tests.support.dovecot import Dovecot

REPO = Path(__file__).resolve().parents[2]


def _channels(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["channels", *argv])


def _add(
    monkeypatch: pytest.MonkeyPatch,
    dovecot: Dovecot,
    *,
    password: str,
    encryption: str = "ssl",
    ca_file: str | None = None,
) -> None:
    port = dovecot.imaps_port if encryption == "ssl" else dovecot.imap_port
    flags = ["--ca-file", ca_file] if ca_file else []
    code = _channels(
        monkeypatch,
        *("add", "dovecot", "--kind", "incoming", "--host", "127.0.0.1"),
        *("--port", str(port), "--encryption", encryption, *flags),
        *("--username", dovecot.username, "--secret-stdin"),
        stdin=password + "\n",
    )
    assert code == 0


def test_ssl_channel_passes(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dovecot: Dovecot,
) -> None:
    _add(monkeypatch, dovecot, password=dovecot.password, ca_file=str(dovecot.ca_file))
    capsys.readouterr()
    assert _channels(monkeypatch, "test", "dovecot") == 0
    out = capsys.readouterr().out
    assert "[FAIL]" not in out
    assert out.count("[ok  ]") >= 4
    assert dovecot.password not in out


def test_starttls_wrong_password_fails(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dovecot: Dovecot,
) -> None:
    _add(
        monkeypatch,
        dovecot,
        password="wrong-password-1",
        encryption="starttls",
        ca_file=str(dovecot.ca_file),
    )
    capsys.readouterr()
    assert _channels(monkeypatch, "test", "dovecot") == 1
    out = capsys.readouterr().out
    assert "[ok  ] STARTTLS" in out
    assert "[FAIL] Sign in" in out
    assert "Server response:" in out
    assert "wrong-password-1" not in out


def test_untrusted_certificate_fails(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dovecot: Dovecot,
) -> None:
    _add(monkeypatch, dovecot, password=dovecot.password)
    capsys.readouterr()
    assert _channels(monkeypatch, "test", "dovecot") == 1
    out = capsys.readouterr().out
    assert "[FAIL]" in out
    assert "Fix:" in out


def test_subprocess_test_command(tmp_path: Path, dovecot: Dovecot) -> None:
    env = {**os.environ, "SAGICC_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "sagicc_tui.cli.main", "channels"]
    add = subprocess.run(
        [
            *command,
            *("add", "dovecot", "--kind", "incoming", "--host", "127.0.0.1"),
            *("--port", str(dovecot.imaps_port), "--ca-file", str(dovecot.ca_file)),
            *("--username", dovecot.username, "--secret-stdin"),
        ],
        input=dovecot.password + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert add.returncode == 0, add.stderr

    test = subprocess.run(
        [*command, "test", "dovecot"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=120,
    )
    assert test.returncode == 0, test.stdout + test.stderr
    assert dovecot.password not in test.stdout + test.stderr
    log = tmp_path / "home" / "log" / "sagicc.log"
    if log.exists():
        assert dovecot.password not in log.read_text(encoding="utf-8")
