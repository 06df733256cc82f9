"""``sagicc export``: tickets and their raw messages as mbox files plus a JSON index.

Each ticket becomes ``ticket-<number>.mbox`` in the mboxrd format: every
line that starts with ``From `` after any number of ``>`` gets one more
``>``, so ``read_mbox`` gives back each message byte for byte. The writer
adds one newline after every message and the reader removes exactly one,
so messages with or without a final line break both survive.
``index.json`` lists every ticket and message with the position of the
message in its mbox, its size and its SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sagicc_tui.paths import resolve_paths
from sagicc_tui.store import StoredMessage, Ticket, TicketFilter, TicketStore

INDEX_NAME = "index.json"
MBOX_FORMAT = "mboxrd"

_FROM_LINE = re.compile(rb">*From ")
_QUOTED_FROM_LINE = re.compile(rb">+From ")
_PAGE = 1000


class ExportError(Exception):
    """An export that cannot start or finish; the text names the path and the fix."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write tickets and their raw messages to a folder (mbox + JSON index)",
        description=(
            "Write one mbox file per ticket, with every message's raw bytes, and "
            "an index.json of tickets and messages, for backups and audits."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder to create (must be missing or empty; default: "
        "sagicc-export-<time> in the current folder)",
    )
    parser.add_argument(
        "--ticket",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="export ticket number N only; repeat for several tickets",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export from the store under SAGICC_HOME; return 0, or 1 with a message."""
    store_file = resolve_paths().store_file
    out = args.out or Path(f"sagicc-export-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    if not store_file.exists():
        print(
            f"sagicc export: no ticket store at {store_file}; set SAGICC_HOME to "
            "the folder the engine uses",
            file=sys.stderr,
        )
        return 1
    store = TicketStore.open(store_file)
    try:
        index = export_tickets(store, out, numbers=args.ticket)
    except ExportError as error:
        print(f"sagicc export: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    count = sum(len(ticket["messages"]) for ticket in index["tickets"])
    print(f"exported {len(index['tickets'])} ticket(s), {count} message(s) to {out}")
    return 0


def export_tickets(
    store: TicketStore, out: Path, *, numbers: list[int] | None = None
) -> dict[str, Any]:
    """Write the tickets ``numbers`` (default: all) to ``out``; return the index.

    ``out`` is created owner-only, because messages hold customers' data;
    an existing non-empty folder is rejected so no earlier export is mixed in.
    """
    tickets = _select(store, numbers or [])
    _prepare(out)
    entries = [_export_ticket(store, ticket, out) for ticket in tickets]
    index = {
        "format": MBOX_FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "store": str(store.path),
        "tickets": entries,
    }
    text = json.dumps(index, indent=2, ensure_ascii=False) + "\n"
    _write_private(out / INDEX_NAME, text.encode("utf-8"))
    return index


def _select(store: TicketStore, numbers: list[int]) -> list[Ticket]:
    if numbers:
        found = []
        for number in numbers:
            ticket = store.get_ticket(number=number)
            if ticket is None:
                raise ExportError(
                    f"ticket #{number} not found; list tickets in the console or "
                    "leave out --ticket to export all"
                )
            found.append(ticket)
        return found
    # NOTE: tickets merged into others are hidden by list_tickets, and
    # messages stored without a ticket (blocked senders) are not exported.
    tickets: list[Ticket] = []
    while page := store.list_tickets(TicketFilter(), len(tickets), _PAGE):
        tickets.extend(page)
    return sorted(tickets, key=lambda ticket: ticket.number)


def _prepare(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(
            f"{out} already exists and is not an empty folder; choose another "
            "--out folder"
        )

    # Only the last level is created, so a mistyped parent is reported
    # instead of silently becoming a new folder tree.
    if not out.parent.is_dir():
        raise ExportError(
            f"folder {out.parent} not found; create it first or choose another "
            "--out folder"
        )
    out.mkdir(exist_ok=True, mode=0o700)


def _export_ticket(store: TicketStore, ticket: Ticket, out: Path) -> dict[str, Any]:
    mbox_name = f"ticket-{ticket.number}.mbox"
    messages = []
    chunks = []
    offset = 0
    for position, stored in enumerate(store.ticket_messages(ticket.id)):
        message = store.get_message(stored.id)
        raw = (message.raw if message else None) or b""
        chunk = mbox_entry(stored, raw)
        messages.append(_message_entry(stored, raw, position, offset))
        chunks.append(chunk)
        offset += len(chunk)
    _write_private(out / mbox_name, b"".join(chunks))
    return {
        "number": ticket.number,
        "tag": ticket.tag,
        "channel": ticket.channel,
        "status": str(ticket.status),
        "customer": ticket.customer_addr,
        "customer_name": ticket.customer_name,
        "subject": ticket.subject,
        "created_at": ticket.created_at.isoformat(),
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "mbox": mbox_name,
        "messages": messages,
    }


def _message_entry(
    stored: StoredMessage, raw: bytes, position: int, offset: int
) -> dict[str, Any]:
    return {
        "message_id": stored.message_id,
        "direction": str(stored.direction),
        "kind": stored.kind,
        "from": stored.from_addr,
        "subject": stored.subject,
        "date": stored.date.isoformat(),
        "reason": stored.reason,
        "outbox_state": str(stored.outbox_state) if stored.outbox_state else None,
        "mbox_index": position,
        "mbox_offset": offset,
        "size": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }


def mbox_entry(stored: StoredMessage, raw: bytes) -> bytes:
    """Return one mboxrd entry: the ``From`` line, the quoted message, a newline."""
    sender = (
        stored.from_addr if stored.from_addr and " " not in stored.from_addr else ""
    )
    when = stored.date.astimezone(UTC).strftime("%a %b %d %H:%M:%S %Y")
    separator = f"From {sender or 'MAILER-DAEMON'} {when}\n".encode("ascii", "replace")
    return separator + quote_from_lines(raw) + b"\n"


def quote_from_lines(raw: bytes) -> bytes:
    """Prefix ``>`` to every line that starts with ``From `` after any ``>``."""
    lines = raw.splitlines(keepends=True)
    return b"".join(b">" + line if _FROM_LINE.match(line) else line for line in lines)


def read_mbox(path: Path) -> Iterator[bytes]:
    """Yield each message of an mboxrd file written by this module, as raw bytes."""
    current: list[bytes] | None = None
    for line in path.read_bytes().splitlines(keepends=True):
        if line.startswith(b"From "):
            if current is not None:
                yield _unquote(current)
            current = []
            continue
        if current is None:
            raise ExportError(f"{path} does not start with a 'From ' line")
        current.append(line)
    if current is not None:
        yield _unquote(current)


def _unquote(lines: list[bytes]) -> bytes:
    text = b"".join(
        line[1:] if _QUOTED_FROM_LINE.match(line) else line for line in lines
    )
    # The writer added exactly one newline after the message.
    return text[:-1] if text.endswith(b"\n") else text


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
