"""Send one message through an outgoing channel's SMTP server with aiosmtplib."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiosmtplib

from sagicc_tui.engine.tls import client_context, describe_tls_error

log = logging.getLogger(__name__)

TokenProvider = Callable[[], Awaitable[str]]


@dataclass(slots=True, frozen=True)
class SmtpEndpoint:
    """Address, encryption and account of an SMTP server.

    ``encryption`` is ``ssl`` (implicit TLS), ``starttls`` or ``none``;
    ``ca_file`` adds a trusted CA to the system's store.
    """

    host: str
    port: int
    encryption: str = "ssl"
    validate_certificates: bool = True
    username: str = ""
    ca_file: str | None = None
    timeout: float = 30.0


@dataclass(slots=True, frozen=True)
class SmtpCredentials:
    """A password, or a provider of fresh OAuth access tokens for XOAUTH2."""

    password: str | None = None
    token_provider: TokenProvider | None = None

    def __repr__(self) -> str:
        return "SmtpCredentials(<hidden>)"


class SendError(Exception):
    """Sending failed; ``permanent`` is true when a retry cannot succeed."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _client(endpoint: SmtpEndpoint) -> aiosmtplib.SMTP:
    if endpoint.encryption not in {"ssl", "starttls", "none"}:
        raise SendError(
            f"encryption {endpoint.encryption!r} is unknown; use ssl, starttls or none",
            permanent=True,
        )
    context = client_context(endpoint.validate_certificates, endpoint.ca_file)
    # aiosmtplib's start_tls=None upgrades only when the server offers
    # STARTTLS and otherwise carries on in clear, so it is always set here.
    return aiosmtplib.SMTP(
        hostname=endpoint.host,
        port=endpoint.port,
        use_tls=endpoint.encryption == "ssl",
        start_tls=endpoint.encryption == "starttls",
        tls_context=context,
        timeout=endpoint.timeout,
    )


async def _authenticate(
    client: aiosmtplib.SMTP, endpoint: SmtpEndpoint, credentials: SmtpCredentials
) -> None:
    await client.ehlo()
    methods = set(client.server_auth_methods)
    if credentials.token_provider is not None:
        if "xoauth2" not in methods:
            raise SendError(
                f"{endpoint.host}:{endpoint.port} does not offer AUTH XOAUTH2; "
                "check the server name or use password sign-in",
                permanent=True,
            )
        token = await credentials.token_provider()
        await client.auth_xoauth2(endpoint.username, token)
        return
    if credentials.password is None:
        return
    if "plain" in methods:
        await client.auth_plain(endpoint.username, credentials.password)
    elif "login" in methods:
        await client.auth_login(endpoint.username, credentials.password)
    else:
        raise SendError(
            f"{endpoint.host}:{endpoint.port} offers no AUTH PLAIN or LOGIN "
            f"(it offers {', '.join(sorted(methods)) or 'none'}); "
            "check the port and encryption settings",
            permanent=True,
        )


def describe_failure(endpoint: SmtpEndpoint, error: Exception) -> SendError:
    """Turn an aiosmtplib or TLS error into a SendError an operator can act on."""
    where = f"{endpoint.host}:{endpoint.port}"
    if isinstance(error, SendError):
        return error
    if isinstance(error.__cause__, ssl.SSLError):
        # aiosmtplib wraps TLS failures in SMTPConnectError.
        error = error.__cause__
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return SendError(
            f"{where} rejected the sign-in for {endpoint.username!r}: "
            f"{error.code} {error.message}; check the username and password "
            "or sign in again",
            permanent=True,
        )
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = ", ".join(
            f"{r.recipient} ({r.code} {r.message})" for r in error.recipients
        )
        return SendError(f"{where} rejected every recipient: {refused}", permanent=True)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        permanent = 500 <= error.code < 600
        return SendError(
            f"{where} replied {error.code} {error.message}", permanent=permanent
        )
    if isinstance(error, ssl.SSLError):
        described = describe_tls_error(error, host=endpoint.host, port=endpoint.port)
        return SendError(str(described), permanent=not described.retryable)
    if isinstance(error, aiosmtplib.SMTPConnectTimeoutError | TimeoutError):
        return SendError(f"connecting to {where} timed out; check host and port")
    if isinstance(error, aiosmtplib.SMTPException | OSError):
        cause = error.__cause__ or error
        return SendError(f"sending through {where} failed: {cause}")
    raise error


async def send_message(
    endpoint: SmtpEndpoint,
    credentials: SmtpCredentials,
    mail_from: str,
    recipients: Sequence[str],
    message: bytes,
) -> str:
    """Send ``message`` and return the server's final reply text.

    Raises SendError with an operator-facing text; ``permanent`` is true
    when a retry by the outbox cannot help.
    """
    if endpoint.encryption == "none":
        log.warning(
            "sending through %s:%s without encryption: credentials and mail "
            "travel in clear",
            endpoint.host,
            endpoint.port,
        )
    client = _client(endpoint)
    try:
        await client.connect()
        await _authenticate(client, endpoint, credentials)
        errors, reply = await client.sendmail(mail_from, list(recipients), message)
        if errors:
            log.warning(
                "some recipients were rejected by %s: %s", endpoint.host, errors
            )
        return reply
    except Exception as error:  # noqa: BLE001 - mapped or re-raised below
        raise describe_failure(endpoint, error) from error
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
