"""Every grouping mode of the basic scenario in every encryption mode.

The bundled scenario serves IMAP and SMTP over implicit TLS; here copies of
it serve both over STARTTLS and in plaintext too, and the replay must still
produce the hand-written tickets and reply headers of every grouping mode.
"""

from __future__ import annotations

import json

import pytest

from sagicc_tui.cli.main import main
from tests.replay.test_replay_check import _edited_copy


def _use_encryption(encryption: str):  # type: ignore[no-untyped-def]
    def edit(document) -> None:  # type: ignore[no-untyped-def]
        for listener in document["listeners"]:
            listener["encryption"] = encryption

    return edit


@pytest.mark.parametrize("encryption", ["ssl", "starttls", "none"])
def test_basic_in_encryption_mode(
    tmp_path, capsys: pytest.CaptureFixture[str], encryption: str
) -> None:
    scenario = _edited_copy(tmp_path, _use_encryption(encryption))

    code = main(["replay", str(scenario), "--check", "--json"])

    report = json.loads(capsys.readouterr().out)
    assert report["differences"] == []
    assert code == 0
    assert [run["mode"] for run in report["runs"]] == [
        "none",
        "customer",
        "subject",
        "thread",
    ]
