"""Fixtures for console tests: a fixed-data backend and an app factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.message import Message

from sagicc_tui.ui.app import SagiccApp
from tests.ui.memory_backend import FROZEN_NOW, MemoryBackend
from tests.ui.store_data import fill_store


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def store_backend(tmp_path: Path):
    """A ``StoreBackend`` on a real store filled by ``fill_store``."""
    backend = fill_store(tmp_path / "home")
    yield backend
    backend.store.close()


@pytest.fixture
def make_app(backend: MemoryBackend) -> Callable[..., SagiccApp]:
    """Build an app on ``backend`` with a frozen clock and no cursor blink."""

    def make(chosen: object | None = None) -> SagiccApp:
        return SagiccApp(
            chosen or backend,  # type: ignore[arg-type]
            now=lambda: FROZEN_NOW,
            cursor_blink=False,
            poll_seconds=3600,  # tests call poll_store themselves
        )

    return make


class MessageLog(list[Message]):
    """Messages posted while a Pilot test runs, for assertions by type."""

    def of(self, kind: type[Message]) -> list[Message]:
        """Return each message of ``kind`` once, though bubbling posts it again."""
        found: dict[int, Message] = {}
        for message in self:
            if isinstance(message, kind):
                found.setdefault(id(message), message)
        return list(found.values())


@pytest.fixture
def posted() -> MessageLog:
    return MessageLog()
