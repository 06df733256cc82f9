"""``sagicc channels`` suggests commands that work when pasted into a shell."""

from __future__ import annotations

import shlex

import pytest

from tests.settings.test_cli_channels import _run

NAMES = ["Support EU", 'we"ird', "it's", "a;rm -rf x", "$HOME"]


def _suggested_command(text: str) -> list[str]:
    start = text.index("sagicc channels edit")
    end = text.index(" before syncing")
    return shlex.split(text[start:end])


@pytest.mark.parametrize("name", NAMES)
def test_missing_secret_hint_quotes_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code = _run(
        monkeypatch,
        "add",
        name,
        "--kind",
        "incoming",
        "--host",
        "127.0.0.1",
        "--username",
        "agent@example.test",
        "--no-secret",
    )

    assert code == 0
    words = _suggested_command(capsys.readouterr().out)
    assert words == ["sagicc", "channels", "edit", name, "--set-secret"]


@pytest.mark.parametrize("name", NAMES)
def test_duplicate_hint_quotes_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    add = ["add", name, "--kind", "incoming", "--host", "127.0.0.1"]
    add += ["--username", "agent@example.test", "--no-secret"]
    assert _run(monkeypatch, *add) == 0
    capsys.readouterr()

    assert _run(monkeypatch, *add) == 1

    error = capsys.readouterr().err
    command = error[error.index("sagicc channels edit") :].strip()
    assert shlex.split(command) == ["sagicc", "channels", "edit", name]
