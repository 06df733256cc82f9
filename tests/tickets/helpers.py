"""Run the grouping rules over a fixture folder with the in-memory index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord
from sagicc_tui.tickets import Assignment, MemoryTicketIndex, assign

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The key the signed Message-IDs in the fixtures were made with.
FIXTURE_KEY = b"fixture key for tickets tests 01"
OWN_ADDRESSES = frozenset({"help@help.example.com"})


@dataclass
class Grouped:
    """Assignments of one run, by fixture file name."""

    index: MemoryTicketIndex
    assignments: dict[str, Assignment]
    ticket_numbers: dict[str, int | None]

    def tickets(self) -> dict[int, list[str]]:
        """Return fixture file names (without .eml) per ticket number."""
        found: dict[int, list[str]] = {}
        for name, number in self.ticket_numbers.items():
            if number is not None:
                found.setdefault(number, []).append(name)
        return found


def load(folder: str, name: str) -> MessageRecord:
    return parse_message((FIXTURES / folder / f"{name}.eml").read_bytes())


def group_records(
    records: list[tuple[str, MessageRecord]],
    mode: str,
    index: MemoryTicketIndex | None = None,
    *,
    now: datetime | None = None,
    **options: object,
) -> Grouped:
    """Assign and apply each record in order; ``now`` defaults to its Date."""
    index = index or MemoryTicketIndex()
    options.setdefault("message_id_key", FIXTURE_KEY)
    options.setdefault("own_addresses", OWN_ADDRESSES)
    grouped = Grouped(index, {}, {})
    for name, record in records:
        moment = now or record.date
        assignment = assign(record, mode, index, now=moment, **options)  # type: ignore[arg-type]
        ticket = index.apply(record, assignment, now=moment)
        key = name if name not in grouped.assignments else f"{name}#2"
        grouped.assignments[key] = assignment
        grouped.ticket_numbers[key] = ticket.number if ticket else None
    return grouped


def group_folder(folder: str, mode: str, **options: object) -> Grouped:
    """Group every fixture of ``folder`` in file-name order."""
    paths = sorted((FIXTURES / folder).glob("*.eml"))
    records = [(path.stem, parse_message(path.read_bytes())) for path in paths]
    return group_records(records, mode, **options)
