"""pytest fixtures that start fakemail in-process on free loopback ports.

Load it with ``pytest_plugins = ["fakemail.pytest_plugin"]`` in a conftest.
Each test gets its own servers, so nothing one test delivers, sends or
breaks is seen by the next; inside a test, ``FakeMail.reset()`` restarts
the scenario from its first second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from fakemail.scenario import Scenario
from fakemail.server import FakeMail
from fakemail.tls import TLSMaterials

FakeMailFactory = Callable[..., Awaitable[FakeMail]]


@pytest.fixture(scope="session")
def fakemail_tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterials:
    """Create one throwaway CA and its certificates for the whole test session."""
    return TLSMaterials(tmp_path_factory.mktemp("fakemail-tls"))


@pytest_asyncio.fixture
async def fakemail_server(
    tmp_path: Path, fakemail_tls: TLSMaterials
) -> AsyncIterator[FakeMailFactory]:
    """Return ``start(scenario, **options)``, which starts a FakeMail and returns it.

    Options are those of ``FakeMail``; ``state_dir`` defaults to a folder
    under the test's ``tmp_path``. Every server started is stopped when the
    test ends.
    """
    started: list[FakeMail] = []

    async def start(scenario: Scenario | Path | str, **options: Any) -> FakeMail:
        options.setdefault("state_dir", tmp_path / f"fakemail-{len(started) + 1}")
        options.setdefault("tls", fakemail_tls)
        server = FakeMail(scenario, **options)
        await server.start()
        started.append(server)
        return server

    yield start

    for server in reversed(started):
        await server.stop()
        server.close()
