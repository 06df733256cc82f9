"""sagicc export: mbox files that give back every raw message byte for byte."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagicc_tui.cli.export import read_mbox
from sagicc_tui.cli.main import main
from sagicc_tui.store import TicketStore
from sagicc_tui.store.ingest import IngestParams, ingest
from tests.store.mail import BASE_TIME, raw_message

# Bodies with lines an mbox must quote, already quoted lines, and no final
# line break, so the round trip covers each case of the format.
TRICKY = raw_message(
    "tricky-1@example.com",
    body="From the start\r\n>From quoted\r\n>>From twice\r\nFrom: not a header\r\nend",
)
NO_FINAL_NEWLINE = raw_message("plain-1@example.com", subject="Other").rstrip(b"\r\n")
LF_ONLY = raw_message("lf-1@example.com", subject="Third").replace(b"\r\n", b"\n")
FOLLOWUP = raw_message(
    "tricky-2@example.com", minutes=5, in_reply_to="tricky-1@example.com"
)


@pytest.fixture
def store() -> Iterator[TicketStore]:
    opened = TicketStore.open()
    try:
        params = IngestParams(channel="support", grouping="thread", folder="INBOX")
        ingest(opened, params, [TRICKY, FOLLOWUP, NO_FINAL_NEWLINE, LF_ONLY])
        yield opened
    finally:
        opened.close()


def _index(out: Path) -> dict:
    return json.loads((out / "index.json").read_text(encoding="utf-8"))


def test_export_round_trip_exact_bytes(store: TicketStore, tmp_path: Path) -> None:
    out = tmp_path / "export"

    assert main(["export", "--out", str(out)]) == 0

    index = _index(out)
    assert [t["number"] for t in index["tickets"]] == [1, 2, 3]
    expected = {1: [TRICKY, FOLLOWUP], 2: [NO_FINAL_NEWLINE], 3: [LF_ONLY]}
    for ticket in index["tickets"]:
        messages = list(read_mbox(out / ticket["mbox"]))
        assert messages == expected[ticket["number"]]


def test_export_quotes_from_lines(store: TicketStore, tmp_path: Path) -> None:
    out = tmp_path / "export"

    main(["export", "--out", str(out)])

    lines = (out / "ticket-1.mbox").read_bytes().splitlines()
    separators = [line for line in lines if line.startswith(b"From ")]
    assert len(separators) == 2
    assert b">From the start" in lines
    assert b">>From quoted" in lines
    assert b">>>From twice" in lines


def test_export_index_fields(store: TicketStore, tmp_path: Path) -> None:
    out = tmp_path / "export"

    main(["export", "--out", str(out)])

    ticket = _index(out)["tickets"][0]
    assert ticket["channel"] == "support"
    assert ticket["status"] == "open"
    assert ticket["customer"] == "ann@example.com"
    assert ticket["subject"] == "Printer broken"
    first, second = ticket["messages"]
    assert first["message_id"] == "tricky-1@example.com"
    assert first["direction"] == "in"
    assert first["mbox_index"] == 0
    assert first["mbox_offset"] == 0
    assert first["size"] == len(TRICKY)
    assert first["date"] == BASE_TIME.isoformat()
    assert "In-Reply-To" in second["reason"]
    assert second["mbox_index"] == 1
    data = (out / "ticket-1.mbox").read_bytes()
    assert data[second["mbox_offset"] :].startswith(b"From ann@example.com ")


def test_export_selected_tickets(store: TicketStore, tmp_path: Path) -> None:
    out = tmp_path / "export"

    assert main(["export", "--out", str(out), "--ticket", "3", "--ticket", "2"]) == 0

    assert [t["number"] for t in _index(out)["tickets"]] == [3, 2]
    assert sorted(p.name for p in out.iterdir()) == [
        "index.json",
        "ticket-2.mbox",
        "ticket-3.mbox",
    ]


def test_export_files_are_private(store: TicketStore, tmp_path: Path) -> None:
    out = tmp_path / "export"

    main(["export", "--out", str(out)])

    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_export_unknown_ticket_fails(
    store: TicketStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export"

    assert main(["export", "--out", str(out), "--ticket", "42"]) == 1

    assert "ticket #42 not found" in capsys.readouterr().err
    assert not out.exists()


def test_export_refuses_non_empty_folder(
    store: TicketStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work")

    assert main(["export", "--out", str(out)]) == 1

    assert "not an empty folder" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "earlier work"


def test_export_without_store_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--out", str(tmp_path / "export")]) == 1

    assert "no ticket store" in capsys.readouterr().err


def test_export_missing_parent_fails(
    store: TicketStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "export"

    assert main(["export", "--out", str(out)]) == 1

    assert f"folder {tmp_path / 'missing'} not found" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()
