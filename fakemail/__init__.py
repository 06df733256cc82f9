"""fakemail: an IMAP and SMTP server that replays scenario mailboxes."""
