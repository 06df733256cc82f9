"""The SQLite index groups like the grouping rules' in-memory reference index."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord
from sagicc_tui.store import IngestItem, TicketStore
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.tickets import MODES, MemoryTicketIndex, assign

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "tickets" / "fixtures"
CORPUS = REPO / ".." / "shared" / "corpus" / "real"
# The key and address the grouping fixtures' signed Message-IDs were made for.
FIXTURE_KEY = b"fixture key for tickets tests 01"
OWN = frozenset({"help@help.example.com"})


def eml_folders() -> list[Path]:
    if not FIXTURES.is_dir():
        return []
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and any(p.glob("*.eml")))


def load(base: Path, paths: list[Path]) -> list[tuple[str, bytes, MessageRecord]]:
    """Read and parse each file; names are paths relative to ``base``."""
    messages = []
    for path in paths:
        raw = path.read_bytes()
        messages.append((str(path.relative_to(base)), raw, parse_message(raw)))
    return messages


def memory_partition(
    messages: list[tuple[str, bytes, MessageRecord]], mode: str
) -> tuple[set[frozenset[str]], list[str]]:
    index = MemoryTicketIndex("support")
    members: dict[int, set[str]] = {}
    actions = []
    for name, _raw, record in messages:
        assignment = assign(
            record,
            mode,
            index,
            now=record.date,
            message_id_key=FIXTURE_KEY,
            own_addresses=OWN,
        )
        ticket = index.apply(record, assignment, now=record.date)
        actions.append(str(assignment.action))
        if ticket is not None and assignment.action != "duplicate":
            members.setdefault(ticket.id, set()).add(name)
    return {frozenset(names) for names in members.values()}, actions


def store_partition(
    store: TicketStore, messages: list[tuple[str, bytes, MessageRecord]], mode: str
) -> tuple[set[frozenset[str]], list[str]]:
    params = IngestParams(
        channel="support", grouping=mode, message_id_key=FIXTURE_KEY, own_addresses=OWN
    )
    members: dict[int, set[str]] = {}
    actions = []
    for name, raw, record in messages:
        # One message per call with its own Date as "now", as the reference
        # run does, so reopen windows and activity order match.
        (result,) = ingest(store, params, [IngestItem(raw)], now=record.date)
        actions.append(str(result.action))
        if result.ticket_id is not None and result.stored:
            members.setdefault(result.ticket_id, set()).add(name)
    return {frozenset(names) for names in members.values()}, actions


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("folder", eml_folders(), ids=lambda p: p.name)
def test_fixture_folders_group_alike(tmp_path: Path, folder: Path, mode: str) -> None:
    messages = load(folder, sorted(folder.glob("*.eml")))

    expected = memory_partition(messages, mode)
    with TicketStore.open(tmp_path / "store.sqlite3") as store:
        found = store_partition(store, messages, mode)

    assert found[1] == expected[1]
    assert found[0] == expected[0]


@pytest.mark.parametrize("mode", MODES)
def test_real_corpus_groups_alike(tmp_path: Path, mode: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"real-mail corpus not found at {CORPUS}")
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    messages = load(CORPUS, paths)

    expected = memory_partition(messages, mode)
    with TicketStore.open(tmp_path / "store.sqlite3") as store:
        found = store_partition(store, messages, mode)

    assert found[1] == expected[1]
    assert found[0] == expected[0]
