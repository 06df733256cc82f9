"""Fixtures for the whole suite: a private SAGICC_HOME and a Dovecot server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dovecot import Dovecot, start_dovecot


@pytest.fixture(autouse=True)
def sagicc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point SAGICC_HOME at a temporary folder so no test touches real files."""
    home = tmp_path / "sagicc-home"
    monkeypatch.setenv("SAGICC_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A Dovecot IMAP server on 127.0.0.1 with one account, per test module."""
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"))
    try:
        yield server
    finally:
        server.stop()
