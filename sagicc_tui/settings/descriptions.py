"""Short help text for each channel setting."""

from __future__ import annotations

from sagicc_tui.settings.models import ImportExisting, ImportMode

# One line per channel field: what it sets and in what unit, for --help
# output and form hints.
FIELD_HELP: dict[str, str] = {
    "host": "server host name or IP address",
    "port": "server port (1-65535); a preset or --encryption fills it when omitted",
    "encryption": "ssl (implicit TLS), starttls or none",
    "validate_certificates": "check the server certificate and host name (default)",
    "ca_file": "PEM file of an extra CA to trust (for a private CA)",
    "username": "login name, usually the mailbox address",
    "auth": "password (also an app password) or oauth",
    "oauth_client_id": "client id of your own registered OAuth app",
    "oauth_tenant": 'Microsoft tenant (default "common")',
    "folder": "IMAP folder to read (default INBOX)",
    "encoding": "character encoding for undeclared 8-bit text (default utf-8)",
    "grouping": "none, customer, subject or thread",
    "reopen_window_days": "days after closing in which new mail reopens a ticket",
    "import_existing": (
        "mail already in the folder that the first sync imports: all, none, "
        'ND for the last N days (e.g. "30d") or a first date "YYYY-MM-DD" '
        '(default "14d": the last 14 days)'
    ),
    "after_import": "leave, seen, move or delete imported mail",
    "move_to_folder": "target folder when --after-import move",
    "poll_interval": "seconds between checks when the server has no IDLE",
    "max_message_size": 'largest message fetched whole, e.g. "25MB" (MiB)',
    "blocked_senders": "comma-separated addresses whose mail opens no ticket",
    "blocked_domains": "comma-separated domains whose mail opens no ticket",
    "acknowledge_new_tickets": "send an acknowledgement for each new ticket",
    "outgoing_channel": "outgoing channel that sends this channel's replies",
    "sender_address": "From address of replies",
    "sender_name": "From display name of replies",
    "signature": "signature text appended to replies (\\n for a line break)",
    "save_to_sent": "save a copy of each reply in the IMAP Sent folder",
    "sent_folder": 'IMAP folder for copies of replies (default "Sent")',
}


def describe_import_existing(policy: ImportExisting) -> str:
    """Describe the mail a channel's first sync imports, for one-line messages."""
    if policy.mode is ImportMode.ALL:
        return "all mail already in the folder"
    if policy.mode is ImportMode.NONE:
        return "none of the mail already in the folder, only new mail"
    if policy.mode is ImportMode.SINCE:
        return f"mail from {policy.since} on"
    return f"mail from the last {policy.days} days"
