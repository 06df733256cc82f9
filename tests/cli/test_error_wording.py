"""Channel errors read as sentences: no doubled punctuation before the fix."""

from __future__ import annotations

import re

import pytest

from sagicc_tui.engine.errors import (
    AuthenticationFailed,
    CertificateInvalid,
    ChannelError,
    ConnectFailed,
    FolderFailed,
    StartTlsFailed,
    TokenRejected,
)

DOUBLED = re.compile(r"[.!?]\s*\.|\.\s*[;:,]")


@pytest.mark.parametrize(
    ("error_type", "server_text"),
    [
        (AuthenticationFailed, "[AUTHENTICATIONFAILED] Authentication failed."),
        (AuthenticationFailed, "535 5.7.8 Authentication credentials invalid"),
        (TokenRejected, "Invalid credentials!"),
        (FolderFailed, "[NONEXISTENT] Unknown Mailbox: Support (Failure)."),
        (StartTlsFailed, "STARTTLS is not available. "),
        (CertificateInvalid, ""),
        (ConnectFailed, ""),
    ],
)
def test_error_text_has_single_stops(
    error_type: type[ChannelError], server_text: str
) -> None:
    error = error_type(
        "Authentication failed.",
        host="127.0.0.1",
        port=993,
        fix="Check the user name and password.",
        server_text=server_text,
    )
    text = str(error)
    assert DOUBLED.search(text) is None, text
    assert text.endswith("Check the user name and password.")
    if server_text:
        assert f"the server replied: {server_text.strip()}" in text


def test_error_text_adds_missing_stop() -> None:
    error = AuthenticationFailed(
        "login rejected",
        host="127.0.0.1",
        port=143,
        fix="Check the password",
        server_text="NO denied",
    )
    assert str(error) == (
        "login rejected (127.0.0.1:143); the server replied: NO denied. "
        "Check the password"
    )
