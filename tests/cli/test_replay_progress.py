"""sagicc replay --check: one progress line per grouping mode, on stderr only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagicc_tui.cli.main import main

BASIC = Path(__file__).resolve().parents[2] / "scenarios" / "basic"


def test_check_prints_progress_per_mode(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(BASIC), "--check", "--json"])

    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out)["passed"] is True
    lines = captured.err.splitlines()
    assert lines == [
        f"sagicc replay: replaying scenario basic with grouping {mode} (run {n} of 4)"
        for n, mode in enumerate(["none", "customer", "subject", "thread"], start=1)
    ]
