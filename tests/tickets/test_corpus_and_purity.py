"""Grouping over the shared real-mail corpus, and the purity of the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord
from sagicc_tui.tickets import MODES, Action
from tests.tickets.helpers import group_records

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "real"


@pytest.fixture(scope="module")
def corpus_records() -> list[tuple[str, MessageRecord]]:
    if not CORPUS.is_dir():
        pytest.skip(f"real-mail corpus not found at {CORPUS}")
    paths = sorted(path for path in CORPUS.rglob("*") if path.is_file())
    return [(str(path), parse_message(path.read_bytes())) for path in paths]


@pytest.mark.parametrize("mode", MODES)
def test_corpus_groups_every_message(
    corpus_records: list[tuple[str, MessageRecord]], mode: str
) -> None:
    grouped = group_records(corpus_records, mode)
    assignments = grouped.assignments

    assert len(assignments) == len(corpus_records)
    for name, assignment in assignments.items():
        assert assignment.reason.strip(), name
        if assignment.action != Action.DUPLICATE:
            assert grouped.ticket_numbers[name] is not None, name

    stored = sum(1 for a in assignments.values() if a.action != Action.DUPLICATE)
    in_tickets = sum(
        len(grouped.index.message_ids(t.id)) for t in grouped.index.tickets()
    )
    assert in_tickets == stored


def test_tickets_import_no_sqlite_or_textual() -> None:
    code = (
        "import sys, sagicc_tui.tickets\n"
        "print(','.join(sorted(n for n in sys.modules\n"
        "    if n.split('.')[0] in ('sqlite3', '_sqlite3', 'textual')\n"
        "    or n.startswith('sagicc_tui.store'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
