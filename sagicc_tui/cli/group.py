"""``sagicc group``: run the grouping rules over mail files and print the tickets."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagicc_tui.mail.display import escape_json_controls, printable
from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord
from sagicc_tui.mail.sources import MailSourceError, iter_messages
from sagicc_tui.store import IngestItem, TicketStore
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.tickets.grouping import MODES, assign
from sagicc_tui.tickets.index import Action, MemoryTicketIndex

# Name of the one channel every message of a run belongs to.
CHANNEL = "group"


@dataclass(frozen=True, slots=True)
class GroupedMessage:
    """One message's outcome: where it came from and the ticket it went to."""

    source: Path
    index: int | None
    message_id: str
    ticket_number: int | None
    action: str
    reason: str


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``group`` subcommand."""
    parser = subparsers.add_parser(
        "group",
        help="group mail files into tickets and print why each message went where",
        description=(
            "Parse .eml files, folders of them, mbox files or maildirs and group "
            "them into tickets with the same rules the engine uses."
        ),
    )

    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument(
        "--mode", required=True, choices=MODES, help="grouping mode of the channel"
    )
    parser.add_argument(
        "--sort",
        choices=("mailbox", "date"),
        default="mailbox",
        help="mailbox order (paths, then file names, then mbox position) or by Date",
    )

    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--encoding",
        default="utf-8",
        help="channel encoding for 8-bit headers and unlabelled text (default: utf-8)",
    )

    parser.add_argument(
        "--tag-prefix", default="", help="ticket tag prefix, e.g. ACME for [ACME#12]"
    )
    parser.add_argument(
        "--own-address",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="one of our sending addresses, so its mail counts as outbound "
        "(repeat for several)",
    )
    parser.add_argument(
        "--reopen-window-days", type=int, default=14, help="reopen window in days"
    )
    parser.add_argument(
        "--store",
        action="store_true",
        help="group through the SQLite ticket store in a temporary folder, "
        "as the engine does, instead of the in-memory index",
    )

    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Group the messages under ``args.paths`` and print the tickets."""
    try:
        codecs.lookup(args.encoding)
    except LookupError:
        print(
            f"sagicc group: unknown encoding {args.encoding!r}; use a Python codec "
            "name such as utf-8 or windows-1252",
            file=sys.stderr,
        )
        return 2
    if args.reopen_window_days < 0:
        print(
            f"sagicc group: invalid --reopen-window-days {args.reopen_window_days}; "
            "use 0 or more",
            file=sys.stderr,
        )
        return 2

    try:
        sources = list(iter_messages(args.paths, args.sort))
    except (MailSourceError, OSError) as error:
        print(f"sagicc group: {error}", file=sys.stderr)
        return 2

    parsed = [
        (source, parse_message(source.raw, encoding=args.encoding))
        for source in sources
    ]
    group = _group_in_store if args.store else _group_in_memory
    grouped = list(group(parsed, args))

    output = _to_json(grouped) if args.json else _to_text(grouped)
    print(output)
    return 0


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "reopen_window_days": args.reopen_window_days,
        "tag_prefix": args.tag_prefix,
        "own_addresses": frozenset(a.lower() for a in args.own_address),
    }


def _group_in_memory(
    parsed: list[tuple[Any, MessageRecord]], args: argparse.Namespace
) -> Iterator[GroupedMessage]:
    index = MemoryTicketIndex(CHANNEL)
    options = _options(args)
    for source, record in parsed:
        # The message's own Date is used as "now", so a run over old mail
        # measures reopen windows as they were when the mail arrived.
        assignment = assign(record, args.mode, index, now=record.date, **options)
        ticket = index.apply(record, assignment, now=record.date)
        yield GroupedMessage(
            source=source.source,
            index=source.index,
            message_id=record.message_id,
            ticket_number=ticket.number if ticket else None,
            action=str(assignment.action),
            reason=assignment.reason,
        )


def _group_in_store(
    parsed: list[tuple[Any, MessageRecord]], args: argparse.Namespace
) -> Iterator[GroupedMessage]:
    params = IngestParams(
        channel=CHANNEL, grouping=args.mode, encoding=args.encoding, **_options(args)
    )
    with tempfile.TemporaryDirectory(prefix="sagicc-group-") as folder:
        with TicketStore.open(Path(folder) / "store.sqlite3") as store:
            for source, record in parsed:
                item = IngestItem(raw=source.raw, record=record)
                (result,) = ingest(store, params, [item], now=record.date)
                yield GroupedMessage(
                    source=source.source,
                    index=source.index,
                    message_id=record.message_id,
                    ticket_number=result.ticket_number,
                    action=str(result.action),
                    reason=result.reason,
                )


def _by_ticket(
    grouped: list[GroupedMessage],
) -> tuple[dict[int, list[GroupedMessage]], list[GroupedMessage]]:
    tickets: dict[int, list[GroupedMessage]] = {}
    unticketed = []
    for message in grouped:
        if message.ticket_number is None:
            unticketed.append(message)
        else:
            tickets.setdefault(message.ticket_number, []).append(message)
    return dict(sorted(tickets.items())), unticketed


def _message_json(message: GroupedMessage) -> dict[str, Any]:
    entry: dict[str, Any] = {"source": str(message.source)}
    if message.index is not None:
        entry["index"] = message.index
    entry["message_id"] = message.message_id
    entry["reason"] = message.reason
    return entry


def _to_json(grouped: list[GroupedMessage]) -> str:
    """Format ``{"tickets": [...]}`` and list messages without a ticket after it.

    The ``not_ticketed`` key is present only when some message got no ticket,
    so scripts that expect the plain form keep working for ordinary mail.
    """
    tickets, unticketed = _by_ticket(grouped)
    document: dict[str, Any] = {
        "tickets": [
            {"number": number, "messages": [_message_json(m) for m in messages]}
            for number, messages in tickets.items()
        ]
    }
    if unticketed:
        document["not_ticketed"] = [_message_json(m) for m in unticketed]
    return escape_json_controls(json.dumps(document, ensure_ascii=False, indent=2))


def _location(message: GroupedMessage) -> str:
    if message.index is None:
        return str(message.source)
    return f"{message.source}[{message.index}]"


def _message_lines(message: GroupedMessage) -> list[str]:
    # Message-IDs and reasons come from the mail, so control characters in
    # them are escaped before they reach the terminal.
    message_id = printable(message.message_id, multiline=False)
    reason = printable(message.reason, multiline=False)
    return [
        f"  {printable(_location(message), multiline=False)}  <{message_id}>",
        f"      {message.action}: {reason}",
    ]


def _to_text(grouped: list[GroupedMessage]) -> str:
    tickets, unticketed = _by_ticket(grouped)
    lines: list[str] = []
    for number, messages in tickets.items():
        count = sum(1 for m in messages if m.action != Action.DUPLICATE)
        lines.append(f"Ticket #{number} ({_plural(count, 'message')})")
        for message in messages:
            lines.extend(_message_lines(message))
        lines.append("")

    if unticketed:
        lines.append("Not ticketed")
        for message in unticketed:
            lines.extend(_message_lines(message))
        lines.append("")

    summary = f"{_plural(len(grouped), 'message')}, {_plural(len(tickets), 'ticket')}"
    lines.append(summary)
    return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
