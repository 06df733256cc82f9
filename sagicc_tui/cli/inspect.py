"""``sagicc inspect``: print how one message file parses."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from pathlib import Path
from typing import Any

from sagicc_tui.mail import MessageRecord, parse_message
from sagicc_tui.mail.display import escape_json_controls, printable


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand."""
    parser = subparsers.add_parser(
        "inspect",
        help="print the parsed fields of one message file",
        description="Parse one .eml file and print its fields, attachments and flags.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="message file (.eml)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--encoding",
        default="utf-8",
        help="channel encoding for 8-bit headers and unlabelled text (default: utf-8)",
    )
    parser.set_defaults(func=run)


def record_to_dict(record: MessageRecord) -> dict[str, Any]:
    """Return the fields ``inspect`` prints, with JSON-ready values."""
    return {
        "subject": record.subject,
        "from": str(record.from_addr) if record.from_addr else None,
        "to": [str(address) for address in record.to],
        "cc": [str(address) for address in record.cc],
        "date": record.date.isoformat(),
        "message_id": record.message_id,
        "in_reply_to": record.in_reply_to,
        "references": record.references,
        "kind": str(record.kind),
        "is_list": record.is_list,
        "returned_message_ids": record.returned_message_ids,
        "forwarded_message_ids": record.forwarded_message_ids,
        "body_text": record.body_text,
        "attachments": [
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
            }
            for attachment in record.attachments
        ],
        "flags": sorted(str(flag) for flag in record.flags),
    }


def _format_text(fields: dict[str, Any]) -> str:
    """Lay out ``fields`` as lines, control characters shown as escapes."""
    lines = []
    for name, value in fields.items():
        if name in ("body_text", "attachments"):
            continue
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        value = "" if value is None else str(value)
        lines.append(f"{name}: {printable(value, multiline=False)}")

    lines.append(f"attachments: {len(fields['attachments'])}")
    for attachment in fields["attachments"]:
        name = printable(attachment["filename"] or "(no name)", multiline=False)
        content_type = printable(attachment["content_type"], multiline=False)
        lines.append(f"  {name} ({content_type}, {attachment['size']} bytes)")
    lines.append("body_text:")
    lines.append(printable(fields["body_text"], multiline=True))
    return "\n".join(lines)


def _error(message: str) -> int:
    print(f"sagicc inspect: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Parse ``args.file`` and print the record; exit 2 on a bad argument."""
    path: Path = args.file
    try:
        codecs.lookup(args.encoding)
    except LookupError:
        return _error(
            f"unknown encoding {args.encoding!r}; use a Python codec name such as utf-8"
        )
    if path.is_dir():
        return _error(f"{path} is a folder; pass one message file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _error(f"{path}: file not found")
    except OSError as error:
        return _error(f"{path}: cannot read file: {error.strerror}")

    fields = record_to_dict(parse_message(raw, encoding=args.encoding))
    if args.json:
        print(escape_json_controls(json.dumps(fields, ensure_ascii=False, indent=2)))
    else:
        print(_format_text(fields))
    return 0
