"""Settings given undecodable bytes or huge values fail with a short, named error."""

from __future__ import annotations

import pytest

from sagicc_tui.settings import (
    IncomingChannel,
    OutgoingChannel,
    build_channel,
    default_config_path,
)
from sagicc_tui.settings.validation import FIELD_PARSERS
from tests.settings.test_cli_channels import _run

# What Python makes of the byte 0xFF in a command-line argument.
UNDECODABLE = "In\udcffbox"
TEXT_FIELDS = {
    IncomingChannel: [
        "name",
        "host",
        "username",
        "folder",
        "encoding",
        "oauth_client_id",
        "move_to_folder",
        "blocked_senders",
    ],
    OutgoingChannel: ["name", "host", "sender_name", "signature", "sent_folder"],
}


@pytest.mark.parametrize(
    ("model", "field"),
    [(model, field) for model, fields in TEXT_FIELDS.items() for field in fields],
)
def test_undecodable_text_rejected(model: type, field: str) -> None:
    values = {"name": "support", "host": "127.0.0.1", field: UNDECODABLE}

    channel, errors = build_channel(model, values)

    assert channel is None
    assert [error.field for error in errors] == [field]
    assert "not valid UTF-8" in errors[0].message


def test_undecodable_argument_exits_cleanly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        monkeypatch,
        "add",
        "smtp",
        "--kind",
        "outgoing",
        "--host",
        "127.0.0.1",
        "--sender-address",
        "support@example.test",
        "--sender-name",
        "ACME\udcff",
        "--no-secret",
    )

    assert code == 2
    error = capsys.readouterr().err
    assert 'field "sender_name"' in error
    assert "unexpected error" not in error
    assert not default_config_path().exists()


@pytest.mark.parametrize(
    ("model", "field"),
    [(model, field) for model in TEXT_FIELDS for field in FIELD_PARSERS[model]],
)
def test_huge_value_error_stays_short(model: type, field: str) -> None:
    values = {"name": "support", "host": "127.0.0.1", field: "x" * 100_000}

    channel, errors = build_channel(model, values)

    for error in errors:
        assert len(error.message) < 1_000
        assert "100000 characters" in error.message
