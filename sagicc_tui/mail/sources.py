"""Messages read from .eml files, folders of them, mbox files and maildirs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sagicc_tui.mail.headers import parse_date, split_headers

SortOrder = Literal["mailbox", "date"]


class MailSourceError(ValueError):
    """A path that is missing or contains no mail format this module reads."""


@dataclass(slots=True, frozen=True)
class SourceMessage:
    """One message: the file it came from, its 0-based position in an mbox
    (None for a single-message file) and its bytes exactly as stored."""

    source: Path
    index: int | None
    raw: bytes


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _looks_like_message(head: bytes) -> bool:
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    name, colon, _value = first_line.partition(b":")
    return bool(colon) and bool(name) and b" " not in name and name.isascii()


def _iter_maildir(path: Path) -> Iterator[SourceMessage]:
    files = [
        entry
        for folder in ("cur", "new")
        if (path / folder).is_dir()
        for entry in (path / folder).iterdir()
        if entry.is_file() and not entry.name.startswith(".")
    ]
    # Maildir names start with the delivery time, so name order is mostly
    # delivery order.
    for entry in sorted(files, key=lambda file: (file.name, file.parent.name)):
        yield SourceMessage(entry, None, entry.read_bytes())


def _iter_eml_folder(path: Path) -> Iterator[SourceMessage]:
    files = sorted(
        (entry for entry in path.rglob("*.eml") if entry.is_file()),
        key=lambda file: file.relative_to(path).as_posix(),
    )
    if not files:
        raise MailSourceError(
            f"{path}: folder contains no .eml files and is not a maildir "
            "(no cur/ or new/); pass .eml files, a maildir or an mbox file"
        )
    for entry in files:
        yield SourceMessage(entry, None, entry.read_bytes())


def _finish_mbox_message(lines: list[bytes]) -> bytes:
    """Join a message's lines and drop the empty line that separates messages."""
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def iter_mbox(path: Path) -> Iterator[SourceMessage]:
    """Yield the messages of an mbox file with their bytes as stored.

    A message starts at a ``From `` line at the start of the file or after an
    empty line, so an unquoted ``From `` inside a paragraph does not split a
    message. Quoted ``>From `` lines are kept as they are, because mboxo and
    mboxrd files cannot be distinguished.
    """
    index = 0
    current: list[bytes] | None = None
    previous_empty = True
    with path.open("rb") as handle:
        for line in handle:
            if previous_empty and line.startswith(b"From "):
                if current is not None:
                    yield SourceMessage(path, index, _finish_mbox_message(current))
                    index += 1
                current = []
            elif current is not None:
                current.append(line)
            previous_empty = line in (b"\n", b"\r\n")
    if current is not None:
        yield SourceMessage(path, index, _finish_mbox_message(current))


def _iter_path(path: Path) -> Iterator[SourceMessage]:
    if not path.exists():
        raise MailSourceError(f"{path}: no such file or folder; check the path")
    if path.is_dir():
        if _is_maildir(path):
            yield from _iter_maildir(path)
        else:
            yield from _iter_eml_folder(path)
        return

    with path.open("rb") as handle:
        head = handle.read(4096)
    if path.suffix.lower() == ".eml":
        yield SourceMessage(path, None, path.read_bytes())
    elif head.startswith(b"From "):
        yield from iter_mbox(path)
    elif _looks_like_message(head):
        yield SourceMessage(path, None, path.read_bytes())
    elif not head and path.suffix.lower() in (".mbox", ".mbx", ""):
        return
    else:
        raise MailSourceError(
            f"{path}: not an .eml message, mbox file or maildir; "
            "pass a file that starts with a header or a 'From ' line"
        )


def _date_key(message: SourceMessage) -> datetime:
    found = parse_date(split_headers(message.raw).first("date"))
    return found if found is not None else datetime.max.replace(tzinfo=UTC)


def iter_messages(
    paths: Sequence[Path], sort: SortOrder = "mailbox"
) -> Iterator[SourceMessage]:
    """Yield every message under ``paths``, in mailbox order or by Date.

    Mailbox order is the order of ``paths``, then file names sorted, then the
    position inside an mbox. ``sort="date"`` reads everything first and sorts
    by the Date field (stable; messages without a valid Date go last).
    Raises MailSourceError for a missing path or an unknown format.
    """
    if sort not in ("mailbox", "date"):
        raise ValueError(f"invalid sort order {sort!r}; use 'mailbox' or 'date'")
    messages = (message for path in paths for message in _iter_path(Path(path)))
    if sort == "mailbox":
        yield from messages
        return
    yield from sorted(messages, key=_date_key)
