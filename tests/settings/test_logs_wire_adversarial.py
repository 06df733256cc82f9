"""At DEBUG level, real IMAP sign-ins leave no credential in the log."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from sagicc_tui.engine.errors import TokenRejected
from sagicc_tui.engine.imap import ImapClient, ImapEndpoint
from tests.engine.fakemail_support import (
    EXPIRED_TOKEN,
    PASSWORD,
    USER,
    VALID_TOKEN,
    fake_imap,
)
from tests.settings.test_logs import _read
from tests.settings.test_logs import logged as logged  # noqa: F401 - fixture


def _forms(secret: str) -> list[str]:
    """The secret itself and the SASL blobs that carry it."""
    plain = base64.b64encode(f"\0{USER}\0{secret}".encode()).decode()
    xoauth = base64.b64encode(
        f"user={USER}\x01auth=Bearer {secret}\x01\x01".encode()
    ).decode()
    return [secret, plain, xoauth, base64.b64encode(secret.encode()).decode()]


@pytest.mark.parametrize("sasl_ir", [True, False])
@pytest.mark.parametrize("mechanism", ["plain", "login"])
async def test_password_login_not_logged(
    logged: Path,  # noqa: F811
    tmp_path: Path,
    sasl_ir: bool,
    mechanism: str,
) -> None:
    disabled = [] if sasl_ir else ["SASL-IR"]
    if mechanism == "login":
        disabled.append("AUTH=PLAIN")
    async with fake_imap(tmp_path, disabled=tuple(disabled)) as fake:
        client = ImapClient(
            ImapEndpoint("127.0.0.1", fake.port, fake.mode, ca_file=str(fake.ca_path))
        )
        await client.connect()
        await client.login(USER, PASSWORD)
        await client.logout()

    text = _read(logged)
    assert "LOGIN" in text or "AUTHENTICATE" in text, "debug wire log missing"
    for form in _forms(PASSWORD):
        assert form not in text


@pytest.mark.parametrize("sasl_ir", [True, False])
@pytest.mark.parametrize("token", [VALID_TOKEN, EXPIRED_TOKEN])
async def test_xoauth2_token_not_logged(
    logged: Path,  # noqa: F811
    tmp_path: Path,
    token: str,
    sasl_ir: bool,
) -> None:
    disabled = () if sasl_ir else ("SASL-IR",)
    async with fake_imap(tmp_path, disabled=disabled) as fake:
        client = ImapClient(
            ImapEndpoint("127.0.0.1", fake.port, fake.mode, ca_file=str(fake.ca_path))
        )
        await client.connect()
        try:
            await client.login_xoauth2(USER, token)
        except TokenRejected:
            pass
        await client.logout()

    text = _read(logged)
    assert "AUTHENTICATE" in text, "debug wire log missing"
    for form in _forms(token):
        assert form not in text


@pytest.fixture(autouse=True)
def debug_everywhere() -> None:
    logging.getLogger("aioimaplib").setLevel(logging.DEBUG)
