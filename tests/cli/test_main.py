"""The ``sagicc`` entry point: closed pipes, --version and the top-level help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sagicc_tui import __version__
from sagicc_tui.cli.main import main

REPO = Path(__file__).resolve().parents[2]
MAIL = REPO / "scenarios" / "basic" / "mail"
SAGICC = [sys.executable, "-m", "sagicc_tui.cli.main"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["group", "--mode", "thread", "--json", str(MAIL)],
        ["inspect", "--json", str(MAIL / "01-alice-order.eml")],
    ],
)
def test_closed_stdout_exits_quietly(arguments: list[str]) -> None:
    # As in `sagicc group --json DIR | head -1`, with a reader that left.
    process = subprocess.Popen(
        [*SAGICC, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sagicc {__version__}"


def test_help_names_sagicc_home(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    output = " ".join(capsys.readouterr().out.split())
    assert "$SAGICC_HOME/config" in output
    assert "$SAGICC_HOME/data" in output
    assert "$SAGICC_HOME/log" in output


def test_channels_closed_stdout_exits_quietly() -> None:
    process = subprocess.Popen(
        [*SAGICC, "channels", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""
