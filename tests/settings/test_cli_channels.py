"""``sagicc channels`` through main() and as a real subprocess."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sagicc_tui.cli import channels as channels_cli
from sagicc_tui.cli.main import main
from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import (
    OAUTH_REFRESH_TOKEN,
    PASSWORD,
    Encryption,
    FileSecretStore,
    Grouping,
    ImportExisting,
    IncomingChannel,
    OutgoingChannel,
    load_config,
    secret_key,
)
from sagicc_tui.settings.descriptions import FIELD_HELP
from sagicc_tui.settings.validation import FIELD_PARSERS

REPO = Path(__file__).resolve().parents[2]


class _Stdin(io.StringIO):
    """Standard input that claims to be, or not to be, a terminal."""

    def __init__(self, text: str = "", *, tty: bool = False) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _run(
    monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "", tty: bool = False
) -> int:
    monkeypatch.setattr(sys, "stdin", _Stdin(stdin, tty=tty))
    return main(["channels", *argv])


def _store() -> FileSecretStore:
    return FileSecretStore(resolve_paths().secrets_dir)


def _add_smtp(monkeypatch: pytest.MonkeyPatch, secret: str = "smtp-pw-1") -> None:
    code = _run(
        monkeypatch,
        "add",
        "smtp",
        "--kind",
        "outgoing",
        "--host",
        "127.0.0.1",
        "--encryption",
        "starttls",
        "--username",
        "agent@example.test",
        "--sender-address",
        "support@example.test",
        "--sender-name",
        "ACME Support",
        "--signature",
        "Regards\\nACME",
        "--secret-stdin",
        stdin=secret + "\n",
    )
    assert code == 0


def test_add_outgoing_with_stdin_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    _add_smtp(monkeypatch)
    channel = load_config().outgoing_channel("smtp")
    assert channel is not None
    assert channel.port == 587
    assert channel.encryption is Encryption.STARTTLS
    assert channel.signature == "Regards\nACME"
    assert _store().get(secret_key("smtp", PASSWORD)) == "smtp-pw-1"
    assert "smtp-pw-1" not in resolve_paths().config_file.read_text("utf-8")


def test_add_incoming_with_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    _add_smtp(monkeypatch)
    code = _run(
        monkeypatch,
        *("add", "support", "--kind", "incoming", "--provider", "microsoft"),
        *("--username", "help@example.test", "--outgoing-channel", "smtp"),
        *("--grouping", "customer", "--import-existing", "2026-01-31"),
        *("--no-validate-certificates", "--folder", "Входящие", "--no-secret"),
    )
    assert code == 0
    channel = load_config().incoming_channel("support")
    assert channel is not None
    assert channel.host == "outlook.office365.com"
    assert channel.port == 993
    assert channel.grouping is Grouping.CUSTOMER
    assert channel.import_existing == ImportExisting.since_date(
        __import__("datetime").date(2026, 1, 31)
    )
    assert channel.validate_certificates is False
    assert channel.folder == "Входящие"
    assert _store().get(secret_key("support", PASSWORD)) is None


def test_add_prompts_hidden_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return "typed-secret-9"

    monkeypatch.setattr(channels_cli.getpass, "getpass", fake_getpass)
    code = _run(
        monkeypatch,
        *("add", "support", "--kind", "incoming", "--host", "127.0.0.1"),
        *("--username", "help@example.test"),
        tty=True,
    )
    assert code == 0
    assert prompts == ['Password for channel "support": ']
    assert _store().get(secret_key("support", PASSWORD)) == "typed-secret-9"


def test_add_without_terminal_skips_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        monkeypatch,
        *("add", "support", "--kind", "incoming", "--host", "127.0.0.1"),
        *("--username", "help@example.test"),
    )
    assert code == 0
    assert "--set-secret" in capsys.readouterr().out


def test_set_secret_without_terminal_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_smtp(monkeypatch)
    code = _run(monkeypatch, "edit", "smtp", "--set-secret")
    assert code == 1
    assert "use --secret-stdin" in capsys.readouterr().err


def test_add_invalid_values_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        monkeypatch,
        *("add", "bad", "--kind", "incoming", "--host", "h", "--port", "70000"),
        *("--encoding", "klingon", "--username", "u", "--no-secret"),
    )
    err = capsys.readouterr().err
    assert code == 2
    assert 'channel "bad", field "port": invalid value \'70000\'' in err
    assert "field \"encoding\": invalid value 'klingon'" in err
    assert "Traceback" not in err
    assert not resolve_paths().config_file.exists()


def test_add_flag_of_other_kind_rejected(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        monkeypatch,
        *("add", "x", "--kind", "incoming", "--host", "h", "--sender-name", "n"),
    )
    assert code == 1
    assert (
        "--sender-name does not apply to incoming channels" in capsys.readouterr().err
    )


def test_add_duplicate_name_rejected(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_smtp(monkeypatch)
    code = _run(monkeypatch, "add", "smtp", "--kind", "incoming", "--host", "h")
    assert code == 1
    assert 'a channel named "smtp" already exists' in capsys.readouterr().err


def test_list_never_shows_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_smtp(monkeypatch, secret="list-hidden-77")
    capsys.readouterr()
    assert _run(monkeypatch, "list") == 0
    text = capsys.readouterr().out
    assert "smtp (outgoing): 127.0.0.1:587 TLS (STARTTLS)" in text
    assert "secret stored" in text
    assert "list-hidden-77" not in text

    assert _run(monkeypatch, "list", "--json") == 0
    output = capsys.readouterr().out
    data = json.loads(output)
    assert data["channels"][0]["name"] == "smtp"
    assert data["channels"][0]["kind"] == "outgoing"
    assert data["channels"][0]["secret_stored"] is True
    assert "list-hidden-77" not in output


def test_list_empty(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, "list") == 0
    assert "No channels yet" in capsys.readouterr().out


def test_edit_rename_moves_secret_and_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _add_smtp(monkeypatch)
    _run(
        monkeypatch,
        *("add", "support", "--kind", "incoming", "--host", "127.0.0.1"),
        *("--username", "u", "--outgoing-channel", "smtp", "--no-secret"),
    )
    assert _run(monkeypatch, "edit", "smtp", "--rename", "mailer") == 0
    config = load_config()
    assert config.channel("smtp") is None
    assert config.incoming_channel("support").outgoing_channel == "mailer"
    assert _store().get(secret_key("mailer", PASSWORD)) == "smtp-pw-1"
    assert _store().get(secret_key("smtp", PASSWORD)) is None


def test_edit_encryption_moves_usual_port(monkeypatch: pytest.MonkeyPatch) -> None:
    _run(
        monkeypatch,
        *("add", "a", "--kind", "incoming", "--host", "h", "--username", "u"),
        "--no-secret",
    )
    assert _run(monkeypatch, "edit", "a", "--encryption", "starttls") == 0
    assert load_config().incoming_channel("a").port == 143
    assert _run(monkeypatch, "edit", "a", "--port", "10143") == 0
    assert _run(monkeypatch, "edit", "a", "--encryption", "ssl") == 0
    assert load_config().incoming_channel("a").port == 10143


def test_edit_stores_refresh_token(monkeypatch: pytest.MonkeyPatch) -> None:
    _add_smtp(monkeypatch)
    code = _run(
        monkeypatch,
        *("edit", "smtp", "--secret-kind", "refresh-token", "--secret-stdin"),
        stdin="1//refresh-value\n",
    )
    assert code == 0
    assert _store().get(secret_key("smtp", OAUTH_REFRESH_TOKEN)) == "1//refresh-value"


def test_edit_unknown_channel(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, "edit", "nope", "--port", "1") == 1
    assert 'no channel named "nope"' in capsys.readouterr().err


def test_remove_needs_confirmation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_smtp(monkeypatch)
    assert _run(monkeypatch, "remove", "smtp") == 1
    assert "add --yes" in capsys.readouterr().err
    assert load_config().channel("smtp") is not None

    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert _run(monkeypatch, "remove", "smtp", tty=True) == 1
    assert load_config().channel("smtp") is not None

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert _run(monkeypatch, "remove", "smtp", tty=True) == 0
    assert load_config().channel("smtp") is None
    assert _store().get(secret_key("smtp", PASSWORD)) is None


def test_remove_refuses_used_outgoing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_smtp(monkeypatch)
    _run(
        monkeypatch,
        *("add", "support", "--kind", "incoming", "--host", "h", "--username", "u"),
        *("--outgoing-channel", "smtp", "--no-secret"),
    )
    assert _run(monkeypatch, "remove", "smtp", "--yes") == 1
    assert "sends the replies of support" in capsys.readouterr().err


def test_invalid_config_file_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = resolve_paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text("[[incoming]\n", encoding="utf-8")
    assert _run(monkeypatch, "list") == 2
    err = capsys.readouterr().err
    assert f"sagicc channels: {path}: line 1" in err
    assert "Traceback" not in err


def test_test_without_engine_module(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_smtp(monkeypatch)

    # None in sys.modules makes the import fail as if the file were absent.
    monkeypatch.setitem(sys.modules, "sagicc_tui.engine.conntest", None)
    assert _run(monkeypatch, "test", "smtp") == 3
    assert "not available in this build yet" in capsys.readouterr().err


@dataclass
class _Step:
    name: str
    passed: bool
    detail: str = ""
    fix: str = ""


@dataclass
class _Report:
    passed: bool
    steps: list[_Step] = field(default_factory=list)


def test_test_prints_steps(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_smtp(monkeypatch)
    received: list[object] = []

    async def run_connection_test(channel, secrets, *, on_step=None):  # type: ignore[no-untyped-def]
        received.append((channel.name, secrets.get(secret_key("smtp", PASSWORD))))
        steps = [
            _Step("resolve host", True, "127.0.0.1"),
            _Step("authenticate", False, "535 bad credentials", "check the password"),
        ]
        for step in steps:
            if on_step is not None:
                on_step(step)
        return _Report(False, steps)

    module = types.ModuleType("sagicc_tui.engine.conntest")
    module.run_connection_test = run_connection_test  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sagicc_tui.engine.conntest", module)
    assert _run(monkeypatch, "test", "smtp") == 1
    out = capsys.readouterr().out
    assert received == [("smtp", "smtp-pw-1")]
    assert "[ok  ] resolve host: 127.0.0.1" in out
    assert "[FAIL] authenticate: 535 bad credentials" in out
    assert "Fix: check the password" in out

    assert _run(monkeypatch, "test", "smtp", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["steps"][1]["name"] == "authenticate"


def test_subprocess_secret_via_stdin(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "SAGICC_HOME": str(home)}
    argv = [
        sys.executable,
        "-m",
        "sagicc_tui.cli.main",
        *("channels", "add", "smtp", "--kind", "outgoing", "--host", "127.0.0.1"),
        *("--username", "agent@example.test", "--sender-address", "s@example.test"),
        "--secret-stdin",
    ]
    result = subprocess.run(
        argv,
        input="sub-process-secret-5\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "sub-process-secret-5" not in " ".join(argv)

    secrets_file = home / "secrets" / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_file.parent.stat().st_mode) == 0o700
    assert "sub-process-secret-5" in secrets_file.read_text("utf-8")
    assert "sub-process-secret-5" not in (home / "config" / "config.toml").read_text(
        "utf-8"
    )

    listing = subprocess.run(
        [sys.executable, "-m", "sagicc_tui.cli.main", "channels", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    assert "smtp (outgoing)" in listing.stdout
    assert "sub-process-secret-5" not in listing.stdout + listing.stderr


def test_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "SAGICC_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "sagicc_tui.cli.main", "channels", "remove", "x"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'sagicc channels: no channel named "x" (channels: none yet)'
    ]


def test_every_setting_has_flag_and_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fields = set(FIELD_PARSERS[IncomingChannel]) | set(FIELD_PARSERS[OutgoingChannel])
    fields -= {"name", "provider"}
    assert set(FIELD_HELP) == fields

    with pytest.raises(SystemExit):
        main(["channels", "add", "--help"])
    help_text = capsys.readouterr().out
    for name in fields:
        assert "--" + name.replace("_", "-") in help_text


def test_edit_rename_keeps_tickets(monkeypatch: pytest.MonkeyPatch) -> None:
    from sagicc_tui.paths import resolve_paths
    from sagicc_tui.store import TicketStore
    from sagicc_tui.store.ingest import IngestParams, ingest

    _run(
        monkeypatch,
        *("add", "support", "--kind", "incoming", "--host", "127.0.0.1"),
        *("--username", "u", "--no-secret"),
    )
    paths = resolve_paths().ensure()
    raw = b"From: a@example.test\r\nSubject: hi\r\nMessage-ID: <r1@x>\r\n\r\nbody\r\n"
    with TicketStore.open(paths=paths) as store:
        ingest(store, IngestParams(channel="support"), [raw])
        store.set_cursor("support", "INBOX", 7, 1)

    assert _run(monkeypatch, "edit", "support", "--rename", "helpdesk") == 0

    with TicketStore.open(paths=paths) as store:
        (ticket,) = store.list_tickets()
        assert ticket.channel == "helpdesk"
        cursor = store.get_cursor("helpdesk", "INBOX")
        assert cursor is not None
        assert cursor.last_uid == 1
