"""Operator-facing errors of the channel engine: what failed, where, and the fix."""

from __future__ import annotations


class ChannelError(Exception):
    """A failure talking to a mail server, worded for an administrator.

    ``step`` names the stage that failed (``resolve``, ``connect``, ``tls``,
    ``starttls``, ``greeting``, ``auth``, ``folder``, ``command``), so the
    connection test and the console can place it. ``server_text`` is the
    server's own words when it sent any. ``retryable`` is true
    when reconnecting with backoff can help (a dropped connection) and false
    when it cannot (a wrong password, an invalid certificate).
    """

    step = "command"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        host: str,
        port: int,
        fix: str = "",
        server_text: str = "",
    ) -> None:
        self.message = message
        self.host = host
        self.port = port
        self.fix = fix
        self.server_text = server_text
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.message} ({self.host}:{self.port})"
        if self.server_text:
            text += f"; the server replied: {self.server_text.strip()}"
        if self.fix:
            text = f"{end_sentence(text)} {self.fix}"
        return text


def end_sentence(text: str) -> str:
    """Return ``text`` ending in one full stop, unless it already ends a sentence.

    Server replies often end in their own full stop ("Authentication
    failed."), so appending one more would print "failed.." before the fix.
    """
    text = text.rstrip()
    if text.endswith((".", "!", "?")):
        return text
    return text + "."


class ResolveFailed(ChannelError):
    """The host name does not resolve."""

    step = "resolve"


class ConnectFailed(ChannelError):
    """The TCP connection was refused, unreachable or timed out."""

    step = "connect"


class TlsFailed(ChannelError):
    """The TLS handshake failed for a reason other than the certificate."""

    step = "tls"


class CertificateInvalid(TlsFailed):
    """The server's certificate failed validation (expired, self-signed, host)."""

    retryable = False


class StartTlsFailed(ChannelError):
    """STARTTLS was not offered or the upgrade failed; no credentials were sent."""

    step = "starttls"
    retryable = False


class GreetingFailed(ChannelError):
    """The server sent no usable IMAP greeting."""

    step = "greeting"


class AuthenticationFailed(ChannelError):
    """The server rejected the user name and password (or the mechanism)."""

    step = "auth"
    retryable = False


class SignInNeeded(AuthenticationFailed):
    """The channel has no usable OAuth token: an administrator must sign in."""


class TokenRejected(SignInNeeded):
    """The server rejected the OAuth access token.

    ``details`` is the decoded JSON of the server's XOAUTH2 error challenge
    (Google sends ``status``, ``schemes`` and ``scope``), or an empty dict.
    """

    def __init__(self, message: str, *, details: dict | None = None, **kwargs) -> None:
        self.details = details or {}
        super().__init__(message, **kwargs)


class FolderFailed(ChannelError):
    """The folder does not exist or cannot be selected."""

    step = "folder"
    retryable = False


class CommandFailed(ChannelError):
    """The server returned NO or BAD for a command."""


class ConnectionDropped(ChannelError):
    """The connection closed or timed out while a command was running."""
