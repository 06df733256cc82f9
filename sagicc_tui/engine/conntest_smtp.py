"""The connection test's SMTP steps: greeting, EHLO, STARTTLS and AUTH.

It never sends MAIL FROM, so no message can leave.
"""

from __future__ import annotations

import ssl

import aiosmtplib

from sagicc_tui.engine.conntest_report import (
    CLEAR_TEXT_WARNING,
    MissingSecret,
    Steps,
    StopTest,
    read_password,
    secret_fix,
)
from sagicc_tui.engine.errors import ChannelError, StartTlsFailed
from sagicc_tui.engine.tls import client_context, describe_tls_error
from sagicc_tui.engine.tokens import TokenProvider
from sagicc_tui.settings import SecretStore
from sagicc_tui.settings.models import AuthMethod, OutgoingChannel


async def test_smtp(
    channel: OutgoingChannel,
    steps: Steps,
    secrets: SecretStore,
    tokens: TokenProvider,
    ca_file: str | None,
    timeout: float,
) -> None:
    """Run the SMTP steps; raise StopTest after the first failed one."""
    encryption = str(channel.encryption)
    context = client_context(channel.validate_certificates, ca_file)
    # start_tls is always False here: this code sends STARTTLS itself, so a
    # server that does not offer it fails the test instead of going on in
    # clear (aiosmtplib's default None would carry on without TLS).
    client = aiosmtplib.SMTP(
        hostname=channel.host,
        port=channel.port,
        use_tls=encryption == "ssl",
        start_tls=False,
        tls_context=context,
        timeout=timeout,
    )
    try:
        await _greeting(client, channel, steps)
        await _ehlo(client, steps)
        if encryption == "starttls":
            await _starttls(client, channel, steps, context)
        elif encryption == "none":
            steps.add("Encryption", True, CLEAR_TEXT_WARNING)
        await _authenticate(client, channel, steps, secrets, tokens)
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


async def _greeting(
    client: aiosmtplib.SMTP, channel: OutgoingChannel, steps: Steps
) -> None:
    implicit = str(channel.encryption) == "ssl"
    try:
        response = await client.connect()
    except (aiosmtplib.SMTPException, OSError) as error:
        cause = error.__cause__ if isinstance(error.__cause__, ssl.SSLError) else error
        if isinstance(cause, ssl.SSLError):
            steps.fail(
                "TLS handshake",
                describe_tls_error(cause, host=channel.host, port=channel.port),
            )
        else:
            steps.add(
                "Server greeting",
                False,
                f"no SMTP greeting: {error}",
                fix=(
                    "If this port expects TLS from the start (usually 465), "
                    "set encryption to ssl"
                    if not implicit
                    else "Check that this port serves SMTP"
                ),
            )
        raise StopTest from error

    if implicit:
        steps.add("TLS handshake", True, _tls_detail(client, channel))
    steps.add("Server greeting", True, f"{response.code} {response.message}")


async def _ehlo(client: aiosmtplib.SMTP, steps: Steps) -> None:
    try:
        response = await client.ehlo()
    except aiosmtplib.SMTPException as error:
        steps.add("EHLO", False, str(error), fix="Check that this port serves SMTP")
        raise StopTest from error
    extensions = ", ".join(sorted(client.esmtp_extensions)) or "none"
    steps.add("EHLO", True, f"{response.code}; extensions: {extensions}")


async def _starttls(
    client: aiosmtplib.SMTP,
    channel: OutgoingChannel,
    steps: Steps,
    context: ssl.SSLContext,
) -> None:
    host, port = channel.host, channel.port
    if not client.supports_extension("starttls"):
        steps.fail(
            "STARTTLS",
            StartTlsFailed(
                f"the server at {host} does not offer STARTTLS; nothing was sent "
                "and the connection is closed",
                host=host,
                port=port,
                fix=(
                    "Use encryption ssl on the implicit-TLS port (usually 465), "
                    "or ask the server's administrator to enable STARTTLS"
                ),
            ),
        )
        client.close()
        raise StopTest

    try:
        await client.starttls(tls_context=context)
        await client.ehlo()
    except (aiosmtplib.SMTPException, OSError) as error:
        cause = error.__cause__ if isinstance(error.__cause__, ssl.SSLError) else error
        if isinstance(cause, ssl.SSLError):
            failure: ChannelError = describe_tls_error(
                cause, host=host, port=port, step="STARTTLS handshake"
            )
        else:
            failure = StartTlsFailed(
                f"STARTTLS with {host} failed: {error}", host=host, port=port
            )
        steps.fail("STARTTLS", failure)
        client.close()
        raise StopTest from error
    steps.add("STARTTLS", True, _tls_detail(client, channel))


def _tls_detail(client: aiosmtplib.SMTP, channel: OutgoingChannel) -> str:
    transport = client.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    version = ssl_object.version() if ssl_object is not None else "TLS"
    if channel.validate_certificates:
        return f"{version}, certificate valid for {channel.host}"
    return f"{version}, certificate NOT checked (validation is off)"


async def _authenticate(
    client: aiosmtplib.SMTP,
    channel: OutgoingChannel,
    steps: Steps,
    secrets: SecretStore,
    tokens: TokenProvider,
) -> None:
    name = "Authenticate"
    methods = set(client.server_auth_methods)
    try:
        if channel.auth is AuthMethod.OAUTH:
            if "xoauth2" not in methods:
                _no_mechanism(steps, channel, "XOAUTH2", methods)
            try:
                token = await tokens.access_token(channel)
            except ChannelError as error:
                steps.fail(name, error)
                raise StopTest from error
            await client.auth_xoauth2(channel.username, token)
            steps.add(name, True, f"signed in as {channel.username} with XOAUTH2")
            return

        if not channel.username:
            steps.add(
                name, True, "no user name set: the server must relay without AUTH"
            )
            return
        try:
            password = read_password(channel, secrets)
        except MissingSecret as error:
            steps.add(name, False, str(error), fix=secret_fix(channel))
            raise StopTest from error
        if "plain" in methods:
            await client.auth_plain(channel.username, password)
            mechanism = "PLAIN"
        elif "login" in methods:
            await client.auth_login(channel.username, password)
            mechanism = "LOGIN"
        else:
            _no_mechanism(steps, channel, "PLAIN or LOGIN", methods)
        steps.add(name, True, f"signed in as {channel.username} with AUTH {mechanism}")
    except aiosmtplib.SMTPAuthenticationError as error:
        steps.add(
            name,
            False,
            f"the server rejected the sign-in for {channel.username}",
            server_text=f"{error.code} {error.message}",
            fix=(
                "Check the user name and password; accounts with two-step "
                "verification need an app password or OAuth"
            ),
        )
        raise StopTest from error
    except (aiosmtplib.SMTPException, OSError) as error:
        steps.add(name, False, f"AUTH failed: {error}")
        raise StopTest from error


def _no_mechanism(
    steps: Steps, channel: OutgoingChannel, wanted: str, methods: set[str]
) -> None:
    offered = ", ".join(sorted(methods)).upper() or "none"
    steps.add(
        "Authenticate",
        False,
        f"the server offers no AUTH {wanted} (it offers: {offered})",
        fix="Check the port and encryption; many servers offer AUTH only after TLS",
    )
    raise StopTest
