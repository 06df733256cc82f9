"""The SQLite ticket store shared by one engine and many consoles."""
