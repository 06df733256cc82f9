"""The console and demo commands' checks that run before any screen opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagicc_tui.cli.demo import find_scenario
from sagicc_tui.cli.main import main


def test_demo_scenario_found() -> None:
    folder = find_scenario("demo")
    assert (folder / "scenario.toml").is_file()
    assert folder.name == "demo"


def test_demo_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "no-such-scenario"]) == 2
    error = capsys.readouterr().err
    assert "scenario 'no-such-scenario' not found" in error
    assert "scenario.toml" in error


def test_console_rejects_broken_config(
    sagicc_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = sagicc_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[[incoming]]\nname = 'x'\nport = 99999\n")
    assert main(["console"]) == 2
    error = capsys.readouterr().err
    assert "config.toml" in error
    assert "port" in error
