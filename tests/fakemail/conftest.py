"""Fixtures for fakemail's tests: in-process servers and scenario helpers."""

from __future__ import annotations

from pathlib import Path

# pytest only honours pytest_plugins in the root conftest, so the plugin's
# fixtures are imported here instead.
from fakemail.pytest_plugin import fakemail_server, fakemail_tls  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"


def write_scenario(
    directory: Path, text: str, files: dict[str, str] | None = None
) -> Path:
    """Write ``scenario.toml`` and the message ``files`` under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in (files or {}).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    path = directory / "scenario.toml"
    path.write_text(text)
    return path
