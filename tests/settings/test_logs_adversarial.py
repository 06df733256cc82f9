"""Redaction of secrets in the escaped and encoded forms that logs show them in."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from sagicc_tui.logs import REDACTED, redact
from sagicc_tui.settings import FileSecretStore
from tests.settings.test_logs import _read
from tests.settings.test_logs import logged as logged  # noqa: F401 - fixture

SECRETS = ["pa'ss\\wörd-1", 'qu"ote\tsecret', "plain-secret-99", "ünïcødé-pässwörd"]


def _forms(secret: str) -> dict[str, str]:
    return {
        "repr": repr(secret),
        "list": str([secret]),
        "json": json.dumps(secret),
        "json-utf8": json.dumps(secret, ensure_ascii=False),
        "ascii": ascii(secret),
        "bytes": str(secret.encode()),
        "base64": base64.b64encode(secret.encode()).decode(),
    }


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize(
    "form", ["repr", "list", "json", "json-utf8", "ascii", "bytes", "base64"]
)
def test_known_secret_redacted_in_form(secret: str, form: str) -> None:
    shown = _forms(secret)[form]
    line = f"sign-in failed: {shown} rejected"

    result = redact(line, frozenset({secret}))

    assert shown not in result
    assert REDACTED in result
    assert result.startswith("sign-in failed: ")


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ("password = 'secret value with spaces'", "value with spaces"),
        ("password='s3cr3t with space'", "with space"),
        ('token: "a b c"', "a b c"),
    ],
)
def test_quoted_value_redacted_whole(line: str, hidden: str) -> None:
    result = redact(line, frozenset())

    assert hidden not in result
    assert REDACTED in result


def test_repr_of_secret_never_logged(logged: Path, tmp_path: Path) -> None:  # noqa: F811
    secret = "it's-a\\secret"
    FileSecretStore(tmp_path / "s").set("k", secret)

    logging.getLogger("sagicc.test").error("login rejected %r", secret)
    logging.getLogger("sagicc.test").error("arguments %s", ["user", secret])

    text = _read(logged)
    assert secret not in text
    assert repr(secret) not in text
    assert repr(secret)[1:-1] not in text
