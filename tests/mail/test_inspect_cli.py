"""The ``sagicc inspect`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagicc_tui.cli.main import main
from tests.mail.support import FIXTURES

JSON_KEYS = {
    "subject",
    "from",
    "to",
    "cc",
    "date",
    "message_id",
    "in_reply_to",
    "references",
    "body_text",
    "attachments",
    "flags",
    "kind",
    "is_list",
    "returned_message_ids",
    "forwarded_message_ids",
}


def test_inspect_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(FIXTURES / "rfc2231-names.eml"), "--json"])
    fields = json.loads(capsys.readouterr().out)

    assert code == 0
    assert set(fields) == JSON_KEYS
    assert fields["subject"] == "attachments with encoded names"
    assert fields["from"] == "customer@customer.example"
    assert fields["to"] == ["support@helpdesk.example"]
    assert fields["date"] == "2026-12-03T08:00:00+00:00"
    assert fields["message_id"] == "rfc2231@customer.example"
    assert fields["attachments"][0] == {
        "filename": "請求書 2026 final.pdf",
        "content_type": "application/pdf",
        "size": 19,
    }
    assert fields["flags"] == []
    assert fields["kind"] == "normal"


def test_inspect_json_flags_and_ids(capsys: pytest.CaptureFixture[str]) -> None:
    main(["inspect", str(FIXTURES / "threaded-reply.eml"), "--json"])
    fields = json.loads(capsys.readouterr().out)

    assert fields["in_reply_to"] == ["ticket-1@helpdesk.example"]
    assert fields["references"] == [
        "root-0@customer.example",
        "ticket-1@helpdesk.example",
    ]
    assert fields["cc"] == ["Doe, John <john@customer.example>"]

    main(["inspect", str(FIXTURES / "no-date.eml"), "--json"])
    assert json.loads(capsys.readouterr().out)["flags"] == ["no-date"]


def test_inspect_text(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(FIXTURES / "forwarded.eml")])
    out = capsys.readouterr().out

    assert code == 0
    assert "subject: Fwd: my complaint\n" in out
    assert "message_id: forward-1@customer.example\n" in out
    assert "  (no name) (message/rfc822, " in out
    assert out.rstrip().endswith("Please look at the message below.")


def test_inspect_encoding_option(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "header-8bit-latin1.eml")
    main(["inspect", path, "--json", "--encoding", "windows-1252"])

    assert json.loads(capsys.readouterr().out)["subject"] == "Facture n° 12 – réponse"


def test_inspect_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["inspect", str(tmp_path / "missing.eml")])
    captured = capsys.readouterr()

    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "missing.eml: file not found" in captured.err


def test_inspect_unknown_encoding(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(FIXTURES / "no-date.eml"), "--encoding", "klingon"])

    assert code == 2
    assert "unknown encoding 'klingon'" in capsys.readouterr().err


def test_inspect_folder_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["inspect", str(tmp_path)])

    assert code == 2
    assert "is a folder" in capsys.readouterr().err
