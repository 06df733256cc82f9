"""Sample channels shared by the settings tests."""

from __future__ import annotations

import datetime as dt

from sagicc_tui.settings import (
    AfterImport,
    Config,
    Encryption,
    Grouping,
    ImportExisting,
    IncomingChannel,
    OutgoingChannel,
    SecretBackend,
)


def sample_config() -> Config:
    """Return a config that sets every field away from its default."""
    incoming = IncomingChannel(
        name="Support Ünïcode",
        host="127.0.0.1",
        port=1143,
        encryption=Encryption.STARTTLS,
        validate_certificates=False,
        username="support@example.test",
        folder="Входящие/Поддержка",
        encoding="windows-1252",
        grouping=Grouping.SUBJECT,
        reopen_window_days=3,
        import_existing=ImportExisting.since_date(dt.date(2026, 1, 31)),
        after_import=AfterImport.MOVE,
        move_to_folder="Processed",
        poll_interval=15,
        max_message_size=10 * 1024 * 1024,
        blocked_senders=("spam@example.test",),
        blocked_domains=("junk.example",),
        acknowledge_new_tickets=True,
        outgoing_channel="smtp",
    )
    outgoing = OutgoingChannel(
        name="smtp",
        host="localhost",
        port=1587,
        encryption=Encryption.NONE,
        username="support@example.test",
        sender_address="support@example.test",
        sender_name='ACME "Support", Team',
        signature='Regards,\nACME\t"""quoted"""\\n',
        save_to_sent=False,
        sent_folder="Gesendet",
    )
    return Config(
        incoming=(incoming,),
        outgoing=(outgoing,),
        ticket_tag_prefix="ACME",
        key_bindings={"reply": "r", "next_ticket": "j,down"},
        secret_backend=SecretBackend.FILE,
        operator_name="Ada",
    )
