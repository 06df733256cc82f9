"""``sagicc channels add`` states what the first sync imports."""

from __future__ import annotations

import pytest

from sagicc_tui.cli.main import main


def _add(capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    code = main(
        [
            "channels",
            *("add", "support", "--kind", "incoming", "--host", "127.0.0.1"),
            *("--username", "help@example.test", "--no-secret", *flags),
        ]
    )
    assert code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), "The first sync imports mail from the last 14 days;"),
        (("--import-existing", "30d"), "imports mail from the last 30 days;"),
        (("--import-existing", "all"), "imports all mail already in the folder;"),
        (("--import-existing", "none"), "imports none of the mail already"),
        (("--import-existing", "2026-01-31"), "imports mail from 2026-01-31 on;"),
    ],
)
def test_add_prints_import_window(
    capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], expected: str
) -> None:
    output = _add(capsys, *flags)
    assert expected in output
    assert "edit support --import-existing VALUE (all, none, Nd" in output


def test_add_help_shows_import_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["channels", "add", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert 'default "14d": the last 14 days' in help_text
    assert "all, none" in help_text
