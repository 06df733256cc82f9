"""Helpers shared by the test suite: external programs and a Dovecot server."""
