"""The SMTP listener against smtplib and curl in every mode and auth mechanism."""

from __future__ import annotations

import asyncio
import base64
import json
import smtplib
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiosmtplib
import pytest
import pytest_asyncio

from fakemail.accounts import Account, Accounts, TokenStatus
from fakemail.clock import SteppedClock
from fakemail.outbox import Outbox
from fakemail.smtp import SMTPServer
from fakemail.tls import TLSMaterials
from fakemail.transcript import Transcript
from tests.fakemail.conftest import write_scenario
from tests.support.programs import require_program

USER = "agent@example.test"
PASSWORD = "smtp-test-password"
TOKEN = "smtp-valid-token"
EXPIRED = "smtp-expired-token"
MESSAGE = (
    b"From: agent@example.test\r\nTo: customer@example.org\r\n"
    b"Subject: Your order\r\nMessage-ID: <m1@example.test>\r\n\r\nIt shipped.\r\n"
)

StartSMTP = Callable[..., Awaitable[SMTPServer]]


@pytest_asyncio.fixture
async def start_smtp(
    fakemail_tls: TLSMaterials, tmp_path: Path
) -> AsyncIterator[StartSMTP]:
    servers: list[SMTPServer] = []

    async def start(
        encryption: str, certificate: str = "valid", **options
    ) -> SMTPServer:
        accounts = Accounts(
            [
                Account(
                    USER,
                    PASSWORD,
                    {TOKEN: TokenStatus.VALID, EXPIRED: TokenStatus.EXPIRED},
                )
            ]
        )
        context = None
        if encryption != "none":
            context = fakemail_tls.server_context(certificate)
        options.setdefault("transcript", Transcript(tmp_path / "transcript.log"))
        server = SMTPServer(
            accounts,
            Outbox(tmp_path / "outbox"),
            encryption=encryption,
            tls_context=context,
            **options,
        )
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def _xoauth2(token: str) -> str:
    return f"user={USER}\x01auth=Bearer {token}\x01\x01"


def _open(server: SMTPServer, context: ssl.SSLContext) -> smtplib.SMTP:
    assert server.port is not None
    if server.encryption == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            "127.0.0.1", server.port, context=context, timeout=5
        )
    else:
        client = smtplib.SMTP("127.0.0.1", server.port, timeout=5)
        if server.encryption == "starttls":
            client.starttls(context=context)
    client.ehlo()
    return client


def _authenticate(client: smtplib.SMTP, mechanism: str, token: str = TOKEN) -> None:
    client.user, client.password = USER, PASSWORD
    if mechanism == "PLAIN":
        client.auth("PLAIN", client.auth_plain)
    elif mechanism == "LOGIN":
        client.auth("LOGIN", client.auth_login, initial_response_ok=False)
    else:

        def respond(challenge: bytes | None = None) -> str:
            return _xoauth2(token) if challenge is None else ""

        client.auth("XOAUTH2", respond)


@pytest.mark.parametrize("encryption", ["ssl", "starttls", "none"])
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "XOAUTH2"])
async def test_smtplib_sends_in_every_mode(
    start_smtp: StartSMTP,
    fakemail_tls: TLSMaterials,
    encryption: str,
    mechanism: str,
) -> None:
    server = await start_smtp(encryption)

    def send() -> None:
        with _open(server, fakemail_tls.client_context()) as client:
            _authenticate(client, mechanism)
            client.sendmail(USER, ["customer@example.org"], MESSAGE)

    await asyncio.to_thread(send)

    [record] = server.outbox.records()
    assert record.mail_from == USER
    assert record.rcpt_tos == ("customer@example.org",)
    assert record.raw.replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")
    assert record.authenticated_user == USER
    assert record.tls is (encryption != "none")
    assert record.header("Subject") == "Your order"


async def test_wrong_password_is_rejected(
    start_smtp: StartSMTP, fakemail_tls: TLSMaterials
) -> None:
    server = await start_smtp("ssl")

    def login() -> None:
        with _open(server, fakemail_tls.client_context()) as client:
            client.login(USER, "not-the-password")

    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        await asyncio.to_thread(login)
    assert caught.value.smtp_code == 535


@pytest.mark.parametrize("token", [EXPIRED, "unknown-token"])
async def test_bad_xoauth2_token_gets_gmail_error(
    start_smtp: StartSMTP, fakemail_tls: TLSMaterials, token: str
) -> None:
    server = await start_smtp("ssl")
    initial = base64.b64encode(_xoauth2(token).encode()).decode()

    def exchange() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        with _open(server, fakemail_tls.client_context()) as client:
            challenge = client.docmd("AUTH", f"XOAUTH2 {initial}")
            final = client.docmd("")
            return challenge, final

    (code, challenge), (final_code, final) = await asyncio.to_thread(exchange)

    assert code == 334
    error = json.loads(base64.b64decode(challenge))
    assert error["status"] == "400"
    assert error["schemes"] == "Bearer"
    assert final_code == 535
    assert b"Username and Password not accepted" in final


async def test_starttls_listener_refuses_auth_before_upgrade(
    start_smtp: StartSMTP,
) -> None:
    server = await start_smtp("starttls")
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()

    def attempt() -> tuple[set[str], int]:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as client:
            client.ehlo()
            features = set(client.esmtp_features)
            code, _ = client.docmd("AUTH", f"PLAIN {plain}")
            return features, code

    features, code = await asyncio.to_thread(attempt)
    assert "starttls" in features
    assert "auth" not in features
    assert code == 538


async def test_required_starttls_rejects_mail_before_upgrade(
    start_smtp: StartSMTP,
) -> None:
    server = await start_smtp("starttls", require_starttls=True)

    def attempt() -> int:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as client:
            client.ehlo()
            code, _ = client.mail(USER)
            return code

    assert await asyncio.to_thread(attempt) == 530


async def test_disabled_starttls_is_not_offered(start_smtp: StartSMTP) -> None:
    server = await start_smtp("starttls", disabled_capabilities=["STARTTLS"])

    def features() -> set[str]:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as client:
            client.ehlo()
            return set(client.esmtp_features)

    assert "starttls" not in await asyncio.to_thread(features)


async def test_disabled_mechanism_is_not_offered(start_smtp: StartSMTP) -> None:
    server = await start_smtp("none", disabled_capabilities=["AUTH=XOAUTH2"])

    def mechanisms() -> list[str]:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as client:
            client.ehlo()
            return client.esmtp_features["auth"].split()

    assert sorted(await asyncio.to_thread(mechanisms)) == ["LOGIN", "PLAIN"]


@pytest.mark.parametrize("certificate", ["self-signed", "expired", "wrong-host"])
async def test_bad_certificate_fails_with_validation(
    start_smtp: StartSMTP, fakemail_tls: TLSMaterials, certificate: str
) -> None:
    server = await start_smtp("ssl", certificate)

    def connect(validate: bool) -> None:
        with _open(server, fakemail_tls.client_context(validate=validate)) as client:
            client.noop()

    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(connect, True)
    await asyncio.to_thread(connect, False)


async def test_transcript_redacts_credentials(
    start_smtp: StartSMTP, fakemail_tls: TLSMaterials, tmp_path: Path
) -> None:
    server = await start_smtp("ssl")

    def send() -> None:
        with _open(server, fakemail_tls.client_context()) as client:
            _authenticate(client, "LOGIN")
            client.sendmail(USER, ["customer@example.org"], MESSAGE)

    await asyncio.to_thread(send)

    text = (tmp_path / "transcript.log").read_text()
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    assert "AUTH LOGIN" in text
    assert PASSWORD not in text
    assert encoded not in text
    assert "235 2.7.0 Authentication successful" in text
    assert "It shipped." not in text


async def test_outbox_persists_for_other_processes(
    start_smtp: StartSMTP, fakemail_tls: TLSMaterials, tmp_path: Path
) -> None:
    server = await start_smtp("none")

    def send() -> None:
        with _open(server, fakemail_tls.client_context()) as client:
            client.sendmail(USER, ["a@example.org", "b@example.org"], MESSAGE)

    await asyncio.to_thread(send)

    [record] = Outbox.load(tmp_path / "outbox")
    assert record.rcpt_tos == ("a@example.org", "b@example.org")
    assert record.authenticated_user is None
    assert record.summary()["message_id"] == "<m1@example.test>"
    assert (tmp_path / "outbox" / f"{record.id}.eml").stat().st_mode & 0o077 == 0


def _curl_send(
    server: SMTPServer,
    mechanism: str,
    ca_path: Path,
    work: Path,
    *,
    insecure: bool = False,
) -> subprocess.CompletedProcess[str]:
    curl = require_program("curl")
    scheme = "smtps" if server.encryption == "ssl" else "smtp"
    message = work / "message.eml"
    message.write_bytes(MESSAGE)
    command = [
        curl,
        "--silent",
        "--show-error",
        "--url",
        f"{scheme}://127.0.0.1:{server.port}",
        "--mail-from",
        USER,
        "--mail-rcpt",
        "customer@example.org",
        "--upload-file",
        str(message),
        "--cacert",
        str(ca_path),
    ]
    if server.encryption == "starttls":
        command.append("--ssl-reqd")
    if insecure:
        command.append("--insecure")
    if mechanism == "XOAUTH2":
        command += ["--user", USER, "--oauth2-bearer", TOKEN]
    else:
        # The password goes through a netrc file, not the command line.
        netrc = work / "netrc"
        netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
        command += ["--netrc-file", str(netrc), "--login-options", f"AUTH={mechanism}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("encryption", ["ssl", "starttls", "none"])
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "XOAUTH2"])
async def test_curl_sends_in_every_mode(
    start_smtp: StartSMTP,
    fakemail_tls: TLSMaterials,
    tmp_path: Path,
    encryption: str,
    mechanism: str,
) -> None:
    server = await start_smtp(encryption)

    result = await asyncio.to_thread(
        _curl_send, server, mechanism, fakemail_tls.ca_path, tmp_path
    )

    assert result.returncode == 0, result.stderr
    [record] = server.outbox.records()
    assert record.authenticated_user == USER
    assert record.tls is (encryption != "none")


@pytest.mark.parametrize("encryption", ["ssl", "starttls"])
@pytest.mark.parametrize("certificate", ["self-signed", "expired", "wrong-host"])
async def test_curl_certificate_validation_on_and_off(
    start_smtp: StartSMTP,
    fakemail_tls: TLSMaterials,
    tmp_path: Path,
    encryption: str,
    certificate: str,
) -> None:
    server = await start_smtp(encryption, certificate)

    checked = await asyncio.to_thread(
        _curl_send, server, "PLAIN", fakemail_tls.ca_path, tmp_path
    )
    assert checked.returncode != 0
    assert server.outbox.records() == []

    unchecked = await asyncio.to_thread(
        _curl_send, server, "PLAIN", fakemail_tls.ca_path, tmp_path, insecure=True
    )
    assert unchecked.returncode == 0, unchecked.stderr
    assert len(server.outbox.records()) == 1


def test_reused_outbox_folder_keeps_numbering(tmp_path: Path) -> None:
    fields = dict(
        mail_from="a@example.test",
        rcpt_tos=("b@example.test",),
        raw=MESSAGE,
        received_at=0.0,
        scenario_time=0.0,
        authenticated_user=None,
        listener="smtp",
        tls=False,
    )
    first = Outbox(tmp_path).add(**fields)
    second = Outbox(tmp_path).add(**fields)
    assert first.id == "000001"
    assert second.id == "000002"
    assert [record.id for record in Outbox.load(tmp_path)] == ["000001", "000002"]


@pytest.mark.parametrize("encryption", ["ssl", "starttls", "none"])
async def test_aiosmtplib_sends_in_every_mode(
    start_smtp: StartSMTP, fakemail_tls: TLSMaterials, encryption: str
) -> None:
    server = await start_smtp(encryption)

    await aiosmtplib.send(
        MESSAGE,
        sender=USER,
        recipients=["customer@example.org"],
        hostname="127.0.0.1",
        port=server.port,
        username=USER,
        password=PASSWORD,
        use_tls=encryption == "ssl",
        start_tls=encryption == "starttls",
        tls_context=fakemail_tls.client_context(),
        timeout=5,
    )

    [record] = server.outbox.records()
    assert record.authenticated_user == USER
    assert record.tls is (encryption != "none")


SMTP_FAULTS = """
[[accounts]]
username = "agent@example.test"
password = "agent-password"

[[listeners]]
name = "smtp"
protocol = "smtp"
encryption = "none"

[[timeline]]
at = 0
action = "no"
command = "DATA"
listener = "smtp"
text = "Try again later"

[[timeline]]
at = 10
action = "bye"
command = "MAIL"
listener = "smtp"

[[timeline]]
at = 20
action = "bad"
command = "RCPT"
listener = "smtp"
text = "No such user"
"""


def _send_once(port: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.sendmail(USER, ["customer@example.org"], MESSAGE)


async def test_timeline_faults_reach_smtp(fakemail_server, tmp_path: Path) -> None:
    clock = SteppedClock()
    server = await fakemail_server(
        write_scenario(tmp_path / "faults", SMTP_FAULTS), clock=clock
    )
    port = server.ports["smtp"]
    await clock.advance(0)

    with pytest.raises(smtplib.SMTPDataError) as temporary:
        await asyncio.to_thread(_send_once, port)
    assert temporary.value.smtp_code == 451
    assert b"Try again later" in temporary.value.smtp_error
    await asyncio.to_thread(_send_once, port)
    assert len(server.outbox) == 1

    await clock.advance(10)
    with pytest.raises(smtplib.SMTPSenderRefused) as closing:
        await asyncio.to_thread(_send_once, port)
    assert closing.value.smtp_code == 421

    await clock.advance(10)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(_send_once, port)
    assert refused.value.recipients["customer@example.org"][0] == 554
    assert len(server.outbox) == 1
