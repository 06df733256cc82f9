"""SMTP sending in each encryption mode against a real aiosmtpd server."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sagicc_tui.engine.smtp import (
    SendError,
    SmtpCredentials,
    SmtpEndpoint,
    send_message,
)
from tests.support.ports import free_port

USER = "agent@acme.test"
PASSWORD = "smtp-secret"
MESSAGE = (
    b"From: agent@acme.test\r\nTo: ann@customer.test\r\nSubject: hi\r\n\r\nhello\r\n"
)


@dataclass
class Recorder:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK queued"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    if isinstance(auth_data, LoginPassword):
        ok = (
            auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        )
        # handled=False makes aiosmtpd send its own 535 on failure.
        return AuthResult(success=ok, handled=False)
    return AuthResult(success=False, handled=False)


@dataclass
class Server:
    port: int
    ca_file: str
    recorder: Recorder


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[trustme.CA, Path]]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    yield authority, path


def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def start(mode: str, authority: trustme.CA, ca_path: Path) -> tuple[Controller, Server]:
    recorder = Recorder()
    port = free_port()
    options: dict[str, object] = {
        "hostname": "127.0.0.1",
        "port": port,
        "authenticator": authenticate,
        "auth_require_tls": mode != "none",
    }
    if mode == "ssl":
        options["ssl_context"] = server_context(authority)
        options["auth_require_tls"] = False
    elif mode == "starttls":
        options["tls_context"] = server_context(authority)
        options["require_starttls"] = True
    controller = Controller(recorder, **options)
    controller.start()
    return controller, Server(port, str(ca_path), recorder)


@pytest.fixture(params=["ssl", "starttls", "none"])
def server(request: pytest.FixtureRequest, ca) -> Iterator[tuple[str, Server]]:
    authority, ca_path = ca
    controller, running = start(request.param, authority, ca_path)
    try:
        yield request.param, running
    finally:
        controller.stop()


async def test_send_in_each_mode(server: tuple[str, Server]) -> None:
    mode, running = server
    endpoint = SmtpEndpoint(
        "127.0.0.1", running.port, mode, True, USER, ca_file=running.ca_file
    )
    await send_message(
        endpoint,
        SmtpCredentials(password=PASSWORD),
        USER,
        ["ann@customer.test"],
        MESSAGE,
    )
    assert len(running.recorder.messages) == 1
    mail_from, recipients, data = running.recorder.messages[0]
    assert mail_from == USER
    assert recipients == ["ann@customer.test"]
    assert data.replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")


async def test_wrong_password_is_permanent(ca) -> None:
    authority, ca_path = ca
    controller, running = start("ssl", authority, ca_path)
    try:
        endpoint = SmtpEndpoint(
            "127.0.0.1", running.port, "ssl", True, USER, ca_file=running.ca_file
        )
        with pytest.raises(SendError, match="rejected the sign-in") as caught:
            await send_message(
                endpoint, SmtpCredentials(password="wrong"), USER, ["a@b.test"], MESSAGE
            )
        assert caught.value.permanent
        assert "wrong" not in str(caught.value)
        assert running.recorder.messages == []
    finally:
        controller.stop()


async def test_starttls_missing_never_sends_in_clear(ca) -> None:
    authority, ca_path = ca
    controller, running = start("none", authority, ca_path)
    try:
        endpoint = SmtpEndpoint(
            "127.0.0.1", running.port, "starttls", True, USER, ca_file=running.ca_file
        )
        with pytest.raises(SendError, match="(?i)starttls"):
            await send_message(
                endpoint,
                SmtpCredentials(password=PASSWORD),
                USER,
                ["a@b.test"],
                MESSAGE,
            )
        assert running.recorder.messages == []
    finally:
        controller.stop()


async def test_untrusted_certificate_rejected(ca) -> None:
    authority, ca_path = ca
    controller, running = start("ssl", authority, ca_path)
    try:
        endpoint = SmtpEndpoint("127.0.0.1", running.port, "ssl", True, USER)
        with pytest.raises(SendError, match="certificate") as caught:
            await send_message(
                endpoint,
                SmtpCredentials(password=PASSWORD),
                USER,
                ["a@b.test"],
                MESSAGE,
            )
        assert "trust" in str(caught.value)
        assert running.recorder.messages == []
    finally:
        controller.stop()


async def test_validation_off_accepts_untrusted(ca) -> None:
    authority, ca_path = ca
    controller, running = start("ssl", authority, ca_path)
    try:
        endpoint = SmtpEndpoint("127.0.0.1", running.port, "ssl", False, USER)
        await send_message(
            endpoint, SmtpCredentials(password=PASSWORD), USER, ["a@b.test"], MESSAGE
        )
        assert len(running.recorder.messages) == 1
    finally:
        controller.stop()


async def test_refused_connection_names_host() -> None:
    port = free_port()
    endpoint = SmtpEndpoint("127.0.0.1", port, "none", True, USER, timeout=5)
    with pytest.raises(SendError, match=f"127.0.0.1:{port}") as caught:
        await send_message(endpoint, SmtpCredentials(), USER, ["a@b.test"], MESSAGE)
    assert not caught.value.permanent
