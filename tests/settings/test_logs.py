"""Logging setup: the file handler, redaction and uncaught errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagicc_tui import logs
from sagicc_tui.logs import REDACTED, redact, setup_logging
from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import FileSecretStore


@pytest.fixture
def logged(sagicc_home: Path) -> Iterator[Path]:
    """Install setup_logging for one test, then remove its handler again."""
    root = logging.getLogger()
    level = root.level
    hook = sys.excepthook
    log_file = setup_logging(resolve_paths(), logging.DEBUG)
    try:
        yield log_file
    finally:
        for handler in [h for h in root.handlers if isinstance(h, logs._SagiccHandler)]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
        sys.excepthook = hook
        logging.captureWarnings(False)
        logging.raiseExceptions = True


def _read(log_file: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return log_file.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("C: a1 LOGIN support@example.test hunter2pw", "hunter2pw"),
        ('C: a1 LOGIN "user" "pass word\\"x"', 'pass word\\"x'),
        ("C: a2 AUTHENTICATE PLAIN AHVzZXIAaHVudGVyMg==", "AHVzZXIAaHVudGVyMg=="),
        ("AUTH XOAUTH2 dXNlcj1hQGIBYXV0aD1CZWFyZXIgeHl6AQE=", "dXNlcj1hQGIBYXV0aD1"),
        ("AUTH PLAIN AHVzZXIAaHVudGVyMg==", "AHVzZXIAaHVudGVyMg=="),
        ("Authorization: Bearer ya29.a0AfB_token-value", "ya29.a0AfB_token-value"),
        ("connect password=swordfish99 host=x", "swordfish99"),
        ('{"client_secret": "GOCSPX-abc123"}', "GOCSPX-abc123"),
        ("refresh_token: 1//0gAbCdEf", "1//0gAbCdEf"),
        (">>> aHVudGVyMnNlY3JldA==", "aHVudGVyMnNlY3JldA=="),
    ],
)
def test_redact_credentials(line: str, secret: str) -> None:
    result = redact(line, frozenset())
    assert secret not in result
    assert REDACTED in result


@pytest.mark.parametrize(
    "line",
    [
        "fetched 12 messages from INBOX on mail.example.test",
        "login failed for support@example.test, retrying in 30 s",
        "a1 OK LOGIN completed",
        "server offers AUTH=PLAIN",
    ],
)
def test_redact_keeps_ordinary_text(line: str) -> None:
    assert redact(line, frozenset()) == line


def test_redact_known_secret_anywhere() -> None:
    result = redact("server said: bad creds k3yPhrase!", frozenset({"k3yPhrase!"}))
    assert result == f"server said: bad creds {REDACTED}"


def test_log_file_under_log_dir(logged: Path, sagicc_home: Path) -> None:
    assert logged == sagicc_home / "log" / "sagicc.log"
    logging.getLogger("sagicc.test").info("hello %s", "file")
    assert "hello file" in _read(logged)


def test_stored_secret_never_logged(logged: Path, tmp_path: Path) -> None:
    FileSecretStore(tmp_path / "s").set("k", "Pl4intext-Secret")
    logging.getLogger("sagicc.test").warning("login failed with %s", "Pl4intext-Secret")
    text = _read(logged)
    assert "Pl4intext-Secret" not in text
    assert f"login failed with {REDACTED}" in text


def test_traceback_redacted(logged: Path, tmp_path: Path) -> None:
    FileSecretStore(tmp_path / "s").set("k", "tr4ceback-secret")
    try:
        raise RuntimeError("rejected tr4ceback-secret")
    except RuntimeError:
        logging.getLogger("sagicc.test").exception("sync failed")
    text = _read(logged)
    assert "tr4ceback-secret" not in text
    assert "RuntimeError: rejected" in text


def test_rerun_replaces_handler(logged: Path) -> None:
    setup_logging(resolve_paths(), logging.INFO)
    ours = [
        h for h in logging.getLogger().handlers if isinstance(h, logs._SagiccHandler)
    ]
    assert len(ours) == 1


def test_uncaught_error_one_line(
    logged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        raise ValueError("broken thing")
    except ValueError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"sagicc: unexpected error: broken thing (details in {logged})"
    ]
    assert "Traceback" in _read(logged)


def test_bad_format_arguments_do_not_raise(logged: Path) -> None:
    logging.getLogger("sagicc.test").info("two %s %s", "only-one")
    assert "only-one" in _read(logged)


def test_log_file_never_readable_by_others(tmp_path: Path) -> None:
    import logging
    import os

    from sagicc_tui.logs import setup_logging
    from sagicc_tui.paths import resolve_paths

    old = os.umask(0o022)
    try:
        paths = resolve_paths({"SAGICC_HOME": str(tmp_path / "home")})
        log_file = setup_logging(paths, capture_exceptions=False)
        logging.getLogger("test").warning("customer ann@example.test wrote")
    finally:
        os.umask(old)
        for handler in logging.getLogger().handlers[:]:
            if type(handler).__name__ == "_SagiccHandler":
                logging.getLogger().removeHandler(handler)
                handler.close()

    assert log_file.stat().st_mode & 0o777 == 0o640
    assert "ann@example.test" in log_file.read_text()
