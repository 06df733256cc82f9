"""fakemail's IMAP4rev1 server; see ``fakemail.imap.server.IMAPServer``."""

from fakemail.imap.server import IMAPServer

__all__ = ["IMAPServer"]
