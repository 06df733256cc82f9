"""Channel models: defaults, presets, labels and config helpers."""

from __future__ import annotations

import datetime as dt

from sagicc_tui.settings import (
    AfterImport,
    AuthMethod,
    Config,
    Encryption,
    Grouping,
    ImportExisting,
    ImportMode,
    IncomingChannel,
    OutgoingChannel,
    Provider,
    SecretBackend,
)


def test_incoming_defaults() -> None:
    channel = IncomingChannel("support")
    assert channel.provider is Provider.OTHER
    assert channel.validate_certificates is True
    assert channel.auth is AuthMethod.PASSWORD
    assert channel.oauth_tenant == "common"
    assert channel.folder == "INBOX"
    assert channel.encoding == "utf-8"
    assert channel.reopen_window_days == 14
    assert channel.import_existing == ImportExisting.recent(14)
    assert channel.after_import is AfterImport.LEAVE
    assert channel.poll_interval == 60
    assert channel.max_message_size == 25 * 1024 * 1024
    assert channel.blocked_senders == ()
    assert channel.blocked_domains == ()
    assert channel.acknowledge_new_tickets is False
    assert channel.outgoing_channel == ""


def test_outgoing_defaults() -> None:
    channel = OutgoingChannel("smtp")
    assert channel.validate_certificates is True
    assert channel.save_to_sent is True
    assert channel.sent_folder == "Sent"
    assert channel.signature == ""


def test_incoming_presets_fill_server() -> None:
    google = IncomingChannel("a", host="old").with_preset(Provider.GOOGLE)
    assert (google.host, google.port, google.encryption) == (
        "imap.gmail.com",
        993,
        Encryption.SSL,
    )
    microsoft = IncomingChannel("a").with_preset(Provider.MICROSOFT)
    assert (microsoft.host, microsoft.port, microsoft.encryption) == (
        "outlook.office365.com",
        993,
        Encryption.SSL,
    )
    assert microsoft.provider is Provider.MICROSOFT


def test_outgoing_presets_fill_server() -> None:
    google = OutgoingChannel("a").with_preset(Provider.GOOGLE)
    assert (google.host, google.port, google.encryption) == (
        "smtp.gmail.com",
        465,
        Encryption.SSL,
    )
    microsoft = OutgoingChannel("a").with_preset(Provider.MICROSOFT)
    assert (microsoft.host, microsoft.port, microsoft.encryption) == (
        "smtp.office365.com",
        587,
        Encryption.STARTTLS,
    )


def test_other_preset_keeps_server() -> None:
    channel = IncomingChannel("a", host="mail.example.com", port=143)
    other = channel.with_preset(Provider.OTHER)
    assert other.host == "mail.example.com"
    assert other.port == 143


def test_encryption_labels() -> None:
    assert Encryption.SSL.label == "SSL"
    assert Encryption.STARTTLS.label == "TLS (STARTTLS)"
    assert Encryption.NONE.label == "None"


def test_enum_values() -> None:
    assert [g.value for g in Grouping] == ["none", "customer", "subject", "thread"]
    assert [a.value for a in AfterImport] == ["leave", "seen", "move", "delete"]
    assert [b.value for b in SecretBackend] == ["auto", "keyring", "file"]


def test_import_existing_cutoff() -> None:
    today = dt.date(2026, 3, 20)
    assert ImportExisting.recent(14).cutoff(today) == dt.date(2026, 3, 6)
    assert ImportExisting.since_date(dt.date(2026, 1, 2)).cutoff(today) == dt.date(
        2026, 1, 2
    )
    assert ImportExisting.all().cutoff(today) is None
    assert ImportExisting.nothing().mode is ImportMode.NONE


def test_import_existing_text_form() -> None:
    assert ImportExisting.recent(7).to_text() == "7d"
    assert ImportExisting.since_date(dt.date(2026, 1, 2)).to_text() == "2026-01-02"
    assert ImportExisting.all().to_text() == "all"
    assert ImportExisting.nothing().to_text() == "none"


def test_ticket_tag_prefix() -> None:
    assert Config().ticket_tag(42) == "[#42]"
    assert Config(ticket_tag_prefix="ACME").ticket_tag(42) == "[ACME#42]"


def test_config_lookup_helpers() -> None:
    smtp = OutgoingChannel("smtp")
    imap = IncomingChannel("support", outgoing_channel="smtp")
    config = Config(incoming=(imap,), outgoing=(smtp,))
    assert config.channel("smtp") is smtp
    assert config.incoming_channel("smtp") is None
    assert config.outgoing_for(imap) is smtp
    assert config.incoming_using("smtp") == (imap,)
    assert config.channel("missing") is None


def test_with_channel_replaces_in_place() -> None:
    config = Config(incoming=(IncomingChannel("a"), IncomingChannel("b")))
    changed = config.with_channel(IncomingChannel("a", port=143))
    assert [c.name for c in changed.incoming] == ["a", "b"]
    assert changed.incoming[0].port == 143


def test_with_channel_rename_updates_references() -> None:
    config = Config(
        incoming=(IncomingChannel("support", outgoing_channel="old"),),
        outgoing=(OutgoingChannel("old"),),
    )
    renamed = config.with_channel(OutgoingChannel("new"), replace="old")
    assert [c.name for c in renamed.outgoing] == ["new"]
    assert renamed.incoming[0].outgoing_channel == "new"


def test_without_channel() -> None:
    config = Config(incoming=(IncomingChannel("a"),), outgoing=(OutgoingChannel("b"),))
    assert config.without_channel("a").incoming == ()
    assert config.without_channel("b").outgoing == ()
