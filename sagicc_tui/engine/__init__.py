"""The channel engine: IMAP sync, SMTP sending, connection tests."""
