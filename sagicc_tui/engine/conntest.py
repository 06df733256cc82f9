"""The connection test: each step of reaching a channel's server, with the fix.

Used by ``sagicc channels test NAME`` and the console. It changes nothing
in the mailbox (the folder is opened with EXAMINE) and sends no mail.
"""

from __future__ import annotations

from sagicc_tui.engine.conntest_report import (
    CLEAR_TEXT_WARNING,
    ConnectionReport,
    MissingSecret,
    StepCallback,
    StepResult,
    Steps,
    StopTest,
    guard,
    reach,
    read_password,
    secret_fix,
)
from sagicc_tui.engine.conntest_smtp import test_smtp
from sagicc_tui.engine.errors import ChannelError
from sagicc_tui.engine.imap import ImapClient
from sagicc_tui.engine.sync import COMMAND_TIMEOUT, imap_endpoint
from sagicc_tui.engine.tokens import StoredTokenProvider, TokenProvider
from sagicc_tui.settings import SecretStore
from sagicc_tui.settings.models import AuthMethod, IncomingChannel, OutgoingChannel

__all__ = ["ConnectionReport", "StepResult", "run_connection_test"]


async def run_connection_test(
    channel: IncomingChannel | OutgoingChannel,
    secrets: SecretStore,
    *,
    on_step: StepCallback | None = None,
    ca_file: str | None = None,
    tokens: TokenProvider | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> ConnectionReport:
    """Test an incoming (IMAP) or outgoing (SMTP) channel step by step.

    ``ca_file`` is used when the channel sets none. Never raises for a
    server problem: every failure is a failed step in the report.
    """
    report = ConnectionReport(
        channel.name,
        "incoming" if isinstance(channel, IncomingChannel) else "outgoing",
        channel.host,
        channel.port,
    )
    steps = Steps(report, on_step)
    ca = channel.ca_file or ca_file or None
    tokens = tokens or StoredTokenProvider(secrets)
    try:
        await reach(channel, steps, timeout)
        if isinstance(channel, IncomingChannel):
            await _test_imap(channel, steps, secrets, tokens, ca, timeout)
        else:
            await test_smtp(channel, steps, secrets, tokens, ca, timeout)
    except StopTest:
        pass
    report.passed = bool(report.steps) and all(step.passed for step in report.steps)
    return report


async def _test_imap(
    channel: IncomingChannel,
    steps: Steps,
    secrets: SecretStore,
    tokens: TokenProvider,
    ca_file: str | None,
    timeout: float,
) -> None:
    client = ImapClient(imap_endpoint(channel, ca_file=ca_file, timeout=timeout))
    try:
        await _imap_connect(client, channel, steps)
        await _imap_sign_in(client, channel, steps, secrets, tokens)
        status = await guard(
            steps, "Open folder", client.select(channel.folder, read_only=True)
        )
        steps.add(
            "Open folder",
            True,
            f"{channel.folder!r} has {status.exists} message(s) "
            f"(UIDVALIDITY {status.uidvalidity})",
        )
    finally:
        await client.logout()


async def _imap_connect(
    client: ImapClient, channel: IncomingChannel, steps: Steps
) -> None:
    encryption = str(channel.encryption)
    try:
        await client.connect()
    except ChannelError as error:
        steps.fail(_imap_step_name(error, encryption), error)
        raise StopTest from error

    if encryption == "none":
        steps.add("Encryption", True, CLEAR_TEXT_WARNING)
        return
    ssl_object = client.protocol.transport.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else "TLS"
    checked = (
        "certificate valid for " + channel.host
        if channel.validate_certificates
        else "certificate NOT checked (validation is off)"
    )
    name = "STARTTLS" if encryption == "starttls" else "TLS handshake"
    steps.add(name, True, f"{version}, {checked}")


def _imap_step_name(error: ChannelError, encryption: str) -> str:
    if error.step == "starttls" or (encryption == "starttls" and error.step == "tls"):
        return "STARTTLS"
    return {
        "resolve": "Resolve host",
        "connect": "Connect",
        "tls": "TLS handshake",
        "greeting": "Server greeting",
    }.get(error.step, "Server greeting")


async def _imap_sign_in(
    client: ImapClient,
    channel: IncomingChannel,
    steps: Steps,
    secrets: SecretStore,
    tokens: TokenProvider,
) -> None:
    name = "Sign in"
    if channel.auth is AuthMethod.OAUTH:
        token = await guard(steps, name, tokens.access_token(channel))
        await guard(steps, name, client.login_xoauth2(channel.username, token))
        steps.add(name, True, f"signed in as {channel.username} with XOAUTH2")
        return

    try:
        password = read_password(channel, secrets)
    except MissingSecret as error:
        steps.add(name, False, str(error), fix=secret_fix(channel))
        raise StopTest from error
    mechanism = "AUTHENTICATE PLAIN" if "AUTH=PLAIN" in client.capabilities else "LOGIN"
    await guard(steps, name, client.login(channel.username, password))
    steps.add(name, True, f"signed in as {channel.username} with {mechanism}")
