"""Validation: every rule's message names the channel, field, value and fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sagicc_tui.settings import (
    AfterImport,
    AuthMethod,
    Config,
    Encryption,
    ImportExisting,
    IncomingChannel,
    OutgoingChannel,
    SettingsError,
    build_channel,
    parse_field,
    validate,
    validate_config,
    validate_field,
)


def _incoming(**changes: object) -> IncomingChannel:
    values = {"name": "support", "host": "imap.example.test", "username": "u"}
    return IncomingChannel(**{**values, **changes})  # type: ignore[arg-type]


def _outgoing(**changes: object) -> OutgoingChannel:
    values = {
        "name": "smtp",
        "host": "smtp.example.test",
        "username": "u",
        "sender_address": "support@example.test",
    }
    return OutgoingChannel(**{**values, **changes})  # type: ignore[arg-type]


def _only_error(channel: IncomingChannel | OutgoingChannel) -> SettingsError:
    errors = validate(channel)
    assert len(errors) == 1, [e.message for e in errors]
    return errors[0]


# (channel, field, shown value, words of the problem, words of the fix)
CASES = [
    (_incoming(port=0), "port", "0", "between 1 and 65535", "993"),
    (_incoming(port=65536), "port", "65536", "between 1 and 65535", "993"),
    (_outgoing(port=-1), "port", "-1", "between 1 and 65535", "587"),
    (_incoming(host=""), "host", "''", "host is missing", "imap.example.com"),
    (_incoming(host="imap.example.test:993"), "host", "'imap", "port", "port field"),
    (_incoming(host="imaps://x.test"), "host", "'imaps", "URL scheme", "without"),
    (_incoming(host="bad host"), "host", "'bad host'", "spaces", "remove"),
    (_incoming(encoding="klingon"), "encoding", "'klingon'", "codecs", "utf-8"),
    (_incoming(encoding="rot13"), "encoding", "'rot13'", "not a text", "utf-8"),
    (
        _outgoing(sender_address="support"),
        "sender_address",
        "'support'",
        "not an email address",
        "support@example.com",
    ),
    (
        _outgoing(sender_address="Bob <b@example.test>"),
        "sender_address",
        "'Bob <b@example.test>'",
        "not allowed",
        "without a name",
    ),
    (
        _outgoing(sender_address="a@b.test\r\nBcc: x@evil.test"),
        "sender_address",
        "'a@b.test\\r\\nBcc: x@evil.test'",
        "control or line-separator",
        "line breaks",
    ),
    (
        _outgoing(sender_name="ACME\r\nBcc: x@evil.test"),
        "sender_name",
        "'ACME\\r\\nBcc: x@evil.test'",
        "character '\\r'",
        "line breaks",
    ),
    (
        _incoming(username="u\nA1 DELETE INBOX"),
        "username",
        "'u\\nA1 DELETE INBOX'",
        "character '\\n'",
        "username",
    ),
    (_incoming(folder="IN\x00BOX"), "folder", "'IN\\x00BOX'", "control", "folder"),
    (_incoming(folder="a\u2028b"), "folder", "'a\\u2028b'", "control", "folder"),
    (_outgoing(signature="Hi\x1b[2J"), "signature", "'Hi\\x1b[2J'", "control", "tabs"),
    (_incoming(poll_interval=0), "poll_interval", "0", "1 and 86400", "60"),
    (_incoming(reopen_window_days=-1), "reopen_window_days", "-1", "0 and", "14"),
    (_incoming(max_message_size=10), "max_message_size", "10", "bytes", "25MB"),
    (
        _incoming(blocked_senders=("ok@example.test", "nope")),
        "blocked_senders",
        "('ok@example.test', 'nope')",
        "entry 'nope'",
        "bare address",
    ),
    (
        _incoming(blocked_domains=("exa mple.test",)),
        "blocked_domains",
        "('exa mple.test',)",
        "entry",
        "example.com",
    ),
    (_incoming(oauth_tenant="a b"), "oauth_tenant", "'a b'", "tenant", "common"),
    (
        _incoming(after_import=AfterImport.MOVE),
        "move_to_folder",
        "''",
        "no target folder",
        "folder to move",
    ),
    (
        _incoming(after_import=AfterImport.MOVE, move_to_folder="INBOX"),
        "move_to_folder",
        "'INBOX'",
        "would never move",
        "Processed",
    ),
    (
        _incoming(auth=AuthMethod.OAUTH),
        "oauth_client_id",
        "''",
        "client id",
        "set auth to password",
    ),
    (_outgoing(sent_folder=""), "sent_folder", "''", "no Sent folder", "Sent"),
    (_incoming(name=" x"), "name", "' x'", "spaces", "remove the spaces"),
    (_incoming(ca_file="relative.pem"), "ca_file", "'relative.pem'", "absolute", "/"),
]


@pytest.mark.parametrize(
    ("channel", "field", "shown_value", "problem", "fix"),
    CASES,
    ids=[f"{case[1]}-{index}" for index, case in enumerate(CASES)],
)
def test_error_names_channel_field_value_fix(
    channel: IncomingChannel | OutgoingChannel,
    field: str,
    shown_value: str,
    problem: str,
    fix: str,
) -> None:
    error = _only_error(channel)
    assert error.channel == channel.name
    assert error.field == field
    head, _, advice = error.message.partition(" Fix: ")
    assert head.startswith(f'channel "{channel.name}", field "{field}": ')
    assert f"invalid value {shown_value}" in head
    assert problem in head
    assert fix in advice


def test_valid_channels_have_no_errors() -> None:
    assert validate(_incoming()) == []
    assert validate(_outgoing()) == []


def test_outgoing_relay_without_username() -> None:
    assert validate(_outgoing(username="")) == []


def test_oauth_needs_username() -> None:
    channel = _outgoing(username="", auth=AuthMethod.OAUTH, oauth_client_id="id")
    assert _only_error(channel).field == "username"


def test_unicode_folder_accepted() -> None:
    assert validate(_incoming(folder="Входящие/客服 ✉")) == []


def test_signature_lines_allowed() -> None:
    assert validate(_outgoing(signature="Regards,\n\tACME")) == []


def test_ca_file_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    assert "not an existing file" in validate_field(
        IncomingChannel, "ca_file", str(missing)
    )
    present = tmp_path / "ca.pem"
    present.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    assert validate_field(IncomingChannel, "ca_file", str(present)) is None


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("port", "993", 993),
        ("encryption", "STARTTLS", Encryption.STARTTLS),
        ("encryption", "TLS (STARTTLS)", Encryption.STARTTLS),
        ("validate_certificates", "no", False),
        ("import_existing", "all", ImportExisting.all()),
        ("import_existing", "none", ImportExisting.nothing()),
        ("import_existing", "30d", ImportExisting.recent(30)),
        ("import_existing", 30, ImportExisting.recent(30)),
        ("import_existing", "last 7 days", ImportExisting.recent(7)),
        ("import_existing", "2026-1-5", ImportExisting.since_date(dt.date(2026, 1, 5))),
        (
            "import_existing",
            dt.date(2026, 2, 1),
            ImportExisting.since_date(dt.date(2026, 2, 1)),
        ),
        ("max_message_size", "25MB", 25 * 1024 * 1024),
        ("max_message_size", "512 KiB", 512 * 1024),
        ("max_message_size", 2048, 2048),
        (
            "blocked_senders",
            "A@Example.test, b@example.test",
            ("a@example.test", "b@example.test"),
        ),
        ("blocked_domains", ["@Spam.Example"], ("spam.example",)),
        ("encoding", "Latin-1", "latin-1"),
        ("host", "[::1]", "::1"),
        ("host", "bücher.example", "bücher.example"),
    ],
)
def test_parse_field_text_forms(field: str, raw: object, expected: object) -> None:
    assert parse_field(IncomingChannel, field, raw) == expected


@pytest.mark.parametrize(
    ("field", "raw", "problem"),
    [
        ("import_existing", "2026-02-30", "is not a valid date"),
        ("import_existing", "yesterday", "not a recognised import choice"),
        ("grouping", "topic", "use one of none, customer, subject, thread"),
        ("after_import", "archive", "use one of leave, seen, move, delete"),
        ("auth", "kerberos", "use one of password, oauth"),
        ("provider", "yahoo", "use one of google, microsoft, other"),
        ("encryption", "tls", "use one of ssl, starttls, none"),
        ("port", "99x", "not a whole number"),
        ("port", True, "true/false"),
        ("validate_certificates", "maybe", "not true or false"),
    ],
)
def test_validate_field_messages(field: str, raw: object, problem: str) -> None:
    message = validate_field(IncomingChannel, field, raw, channel_name="support")
    assert message is not None
    assert message.startswith(f'channel "support", field "{field}": invalid value ')
    assert problem in message


def test_validate_field_valid_is_none() -> None:
    assert validate_field(OutgoingChannel, "sender_address", "a@b.example") is None


def test_validate_field_unknown_field() -> None:
    with pytest.raises(KeyError, match="no field 'colour'"):
        validate_field(IncomingChannel, "colour", "red")


def test_config_level_checks() -> None:
    config = Config(
        incoming=(_incoming(outgoing_channel="missing"),),
        outgoing=(_outgoing(name="support"),),
        ticket_tag_prefix="AC ME",
        key_bindings={"Reply!": "r"},
    )
    fields = sorted(error.field for error in validate_config(config))
    assert fields == ["key_bindings", "name", "outgoing_channel", "ticket_tag_prefix"]


@pytest.mark.parametrize("prefix", ["", "ACME", "acme-2", "Σ.Co"])
def test_tag_prefix_accepted(prefix: str) -> None:
    assert validate_field(Config, "ticket_tag_prefix", prefix) is None


@pytest.mark.parametrize("prefix", ["AC ME", "A#B", "[X]", "x\r\n"])
def test_tag_prefix_rejected(prefix: str) -> None:
    assert validate_field(Config, "ticket_tag_prefix", prefix) is not None


def test_key_bindings_normalised() -> None:
    parsed = parse_field(Config, "key_bindings", {"next_ticket": "j , down"})
    assert parsed == {"next_ticket": "j,down"}


def test_build_channel_collects_all_errors() -> None:
    channel, errors = build_channel(
        IncomingChannel, {"name": "a", "port": "x", "host": "", "colour": "red"}
    )
    assert channel is None
    assert sorted(e.field for e in errors) == ["colour", "host", "port"]


def test_build_channel_on_base() -> None:
    channel, errors = build_channel(
        IncomingChannel, {"port": "143"}, base=_incoming(port=993)
    )
    assert errors == []
    assert channel == _incoming(port=143)
