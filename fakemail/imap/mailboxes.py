"""Mailbox commands: SELECT, LIST, STATUS, CREATE, APPEND, EXPUNGE, IDLE and kin."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from fakemail.imap import utf7
from fakemail.imap.session import CommandError, normalize_flags
from fakemail.imap.syntax import ParseError, Parser, astring, resolve
from fakemail.mailstore import (
    DELIMITER,
    INBOX,
    Folder,
    MailStoreError,
    normalize_folder,
)

if TYPE_CHECKING:
    from fakemail.imap.session import Session

SYSTEM_FLAGS = "\\Answered \\Flagged \\Deleted \\Seen \\Draft"
_STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN")
# fakemail's own limits for names that clients create. LIST and CREATE cost
# grows with the square of the depth, so one client's 10,000-level name
# stalled every session for seconds.
MAX_FOLDER_DEPTH = 64
MAX_FOLDER_NAME_LENGTH = 1000


def mailbox_name(parser: Parser) -> str:
    """Read a mailbox argument and return it decoded from modified UTF-7."""
    raw = parser.astring()
    try:
        name = utf7.decode(raw)
    except utf7.Utf7Error as error:
        raise CommandError("BAD", str(error)) from None
    name = name.rstrip(DELIMITER) or name
    return normalize_folder(name)


def _check_new_name(name: str) -> list[str]:
    """Return the levels of a name to create; NO when a level is empty or too deep."""
    parts = name.split(DELIMITER)
    if any(not part for part in parts):
        raise CommandError("NO", f"Invalid mailbox name: {name}")
    if len(parts) > MAX_FOLDER_DEPTH or len(name) > MAX_FOLDER_NAME_LENGTH:
        raise CommandError(
            "NO",
            f"[CANNOT] Mailbox name too long: at most {MAX_FOLDER_DEPTH} levels "
            f"and {MAX_FOLDER_NAME_LENGTH} characters.",
        )
    return parts


def wire_name(name: str) -> bytes:
    return astring(utf7.encode(name))


def _folder(session: Session, name: str) -> Folder:
    try:
        return session.store.folder(session.user or "", name)
    except MailStoreError:
        raise CommandError(
            "NO", f"[NONEXISTENT] Mailbox does not exist: {name}"
        ) from None


async def select(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    return await _select(session, parser, readonly=False)


async def examine(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    return await _select(session, parser, readonly=True)


async def _select(session: Session, parser: Parser, *, readonly: bool) -> str:
    parser.space()
    name = mailbox_name(parser)
    parser.end()

    if session.selected is not None:
        session.unselect()
        await session.send_line("* OK [CLOSED] Previous mailbox closed.")
    if not session.store.has_folder(session.user or "", name):
        raise CommandError("NO", f"Mailbox does not exist: {name}")
    folder = _folder(session, name)
    session.select(folder.name, readonly)

    keywords = sorted(
        {flag for m in session.view for flag in m.flags if not flag.startswith("\\")}
    )
    flags = " ".join([SYSTEM_FLAGS, *keywords])
    lines = [f"* FLAGS ({flags})"]
    if readonly:
        lines.append("* OK [PERMANENTFLAGS ()] Read-only mailbox.")
    else:
        lines.append(f"* OK [PERMANENTFLAGS ({flags} \\*)] Flags permitted.")
    lines.append(f"* {len(session.view)} EXISTS")
    lines.append(f"* {len(session.recent)} RECENT")
    unseen = next(
        (seq for seq, m in enumerate(session.view, 1) if "\\Seen" not in m.flags), None
    )
    if unseen is not None:
        lines.append(f"* OK [UNSEEN {unseen}] First unseen.")
    lines.append(f"* OK [UIDVALIDITY {folder.uidvalidity}] UIDs valid")
    lines.append(f"* OK [UIDNEXT {folder.uidnext}] Predicted next UID")
    await session.send_line("\r\n".join(lines))

    mode = "READ-ONLY" if readonly else "READ-WRITE"
    return f"[{mode}] {'Examine' if readonly else 'Select'} completed."


async def create(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    name = mailbox_name(parser)
    parser.end()
    user = session.user or ""
    if name == INBOX or session.store.has_folder(user, name):
        raise CommandError("NO", f"[ALREADYEXISTS] Mailbox already exists: {name}")
    parts = _check_new_name(name)
    # RFC 3501 says a server SHOULD create the missing parents of a new name.
    for depth in range(1, len(parts) + 1):
        session.store.create_folder(user, DELIMITER.join(parts[:depth]), exist_ok=True)
    return "Create completed."


async def delete(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    name = mailbox_name(parser)
    parser.end()
    if name == INBOX:
        raise CommandError("NO", "INBOX can't be deleted.")
    folder = _folder(session, name)
    if session.selected == folder.name:
        session.unselect()
    session.store.delete_folder(session.user or "", folder.name, origin=session)
    return "Delete completed."


async def rename(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    old = mailbox_name(parser)
    parser.space()
    new = mailbox_name(parser)
    parser.end()
    _folder(session, old)
    if session.store.has_folder(session.user or "", new):
        raise CommandError(
            "NO", f"[ALREADYEXISTS] Target mailbox already exists: {new}"
        )
    parts = _check_new_name(new)
    for depth in range(1, len(parts)):
        session.store.create_folder(
            session.user or "", DELIMITER.join(parts[:depth]), exist_ok=True
        )
    session.store.rename_folder(session.user or "", old, new, origin=session)
    return "Rename completed."


async def subscribe(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    return _set_subscribed(session, parser, True)


async def unsubscribe(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    return _set_subscribed(session, parser, False)


def _set_subscribed(session: Session, parser: Parser, value: bool) -> str:
    parser.space()
    name = mailbox_name(parser)
    parser.end()
    _folder(session, name).subscribed = value
    return f"{'Subscribe' if value else 'Unsubscribe'} completed."


async def list_command(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    await _list(session, parser, "LIST")
    return "List completed."


async def lsub(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    await _list(session, parser, "LSUB")
    return "Lsub completed."


async def _list(session: Session, parser: Parser, verb: str) -> None:
    parser.space()
    reference = parser.astring()
    parser.space()
    pattern = parser.list_mailbox()
    parser.end()

    if not pattern:
        root = b'""' if not reference else astring(reference.split(b"/")[0] + b"/")
        await session.send_line(f'* {verb} (\\Noselect) "/" '.encode() + root)
        return
    try:
        full = utf7.decode(reference + pattern)
    except utf7.Utf7Error as error:
        raise CommandError("BAD", str(error)) from None
    matcher = _pattern(full)

    folders = session.store.folders(session.user or "")
    names = {f.name for f in folders if verb == "LIST" or f.subscribed}
    every = {f.name for f in folders}
    # Parents that do not exist themselves still show up, as \Noselect.
    for name in list(every):
        parts = name.split(DELIMITER)
        for depth in range(1, len(parts)):
            parent = DELIMITER.join(parts[:depth])
            if parent not in every and verb == "LIST":
                names.add(parent)

    lines = []
    for name in sorted(names, key=lambda n: (n != INBOX, n)):
        if not matcher(name):
            continue
        lines.append(
            f"* {verb} ".encode()
            + _attributes(name, every, verb)
            + b' "/" '
            + wire_name(name)
        )
    if lines:
        await session.send_line(b"\r\n".join(lines))


def _attributes(name: str, every: set[str], verb: str) -> bytes:
    if verb == "LSUB":
        return b"()"
    attributes = []
    if name not in every:
        attributes.append("\\Noselect")
    prefix = name + DELIMITER
    has_children = any(other.startswith(prefix) for other in every)
    attributes.append("\\HasChildren" if has_children else "\\HasNoChildren")
    return ("(" + " ".join(attributes) + ")").encode()


def _pattern(pattern: str) -> Callable[[str], bool]:
    """Compile a LIST pattern: ``*`` matches anything, ``%`` stops at ``/``.

    Names under INBOX also match without regard to case, as INBOX does.
    """
    pattern = _collapse_wildcards(pattern)
    if sum(char in "*%" for char in pattern) <= 1:
        # One wildcard cannot make a regex backtrack more than once per
        # character, and the regex engine is far faster than a Python loop.
        exact = _regex_matcher(pattern, fold=False)
        folded = _regex_matcher(pattern, fold=True)
    else:
        exact = _bitset_matcher(pattern, fold=False)
        folded = _bitset_matcher(pattern, fold=True)

    def matches(name: str) -> bool:
        if exact(name):
            return True
        inbox = name == INBOX or name.startswith(INBOX + DELIMITER)
        return inbox and folded(name)

    return matches


def _collapse_wildcards(pattern: str) -> str:
    """Replace each run of wildcards by one: ``*`` if it has a ``*``, else ``%``."""
    pieces = re.split(r"([*%]+)", pattern)
    for position in range(1, len(pieces), 2):
        pieces[position] = "*" if "*" in pieces[position] else "%"
    return "".join(pieces)


def _regex_matcher(pattern: str, *, fold: bool) -> Callable[[str], bool]:
    pieces = []
    for char in pattern:
        if char == "*":
            pieces.append(".*")
        elif char == "%":
            pieces.append("[^/]*")
        else:
            pieces.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if fold else 0)
    compiled = re.compile("".join(pieces) + r"\Z", flags)
    return lambda name: compiled.match(name) is not None


def _bitset_matcher(pattern: str, *, fold: bool) -> Callable[[str], bool]:
    """Match in O(len(pattern) * len(name)) by tracking reachable positions.

    Bit ``i`` of ``states`` is set when the name read so far can end at
    pattern position ``i``. A regex with one ``.*`` per wildcard backtracked
    exponentially on patterns of many wildcards, holding the event loop
    (and every client) meanwhile. Expects no two adjacent wildcards.
    """
    if fold:
        pattern = pattern.casefold()
    literals: dict[str, int] = {}
    stars = percents = 0
    for position, char in enumerate(pattern):
        bit = 1 << position
        if char == "*":
            stars |= bit
        elif char == "%":
            percents |= bit
        else:
            literals[char] = literals.get(char, 0) | bit
    wildcards = stars | percents
    accept = 1 << len(pattern)

    def skip_empty_wildcards(states: int) -> int:
        # A wildcard may match nothing; the next position is never one.
        return states | ((states & wildcards) << 1)

    def matches(name: str) -> bool:
        states = skip_empty_wildcards(1)
        for char in name.casefold() if fold else name:
            following = ((states & literals.get(char, 0)) << 1) | (states & stars)
            if char != DELIMITER:
                following |= states & percents
            if not following:
                return False
            states = skip_empty_wildcards(following)
        return bool(states & accept)

    return matches


async def status(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    name = mailbox_name(parser)
    parser.space()
    parser.expect(b"(")
    items: list[str] = []
    while not parser.skip(b")"):
        if items:
            parser.space()
        item = parser.atom().decode("ascii").upper()
        if item not in _STATUS_ITEMS:
            raise ParseError(f"unknown STATUS item {item}")
        items.append(item)
    parser.end()
    folder = _folder(session, name)
    values = {
        "MESSAGES": len(folder.messages),
        "RECENT": sum(1 for m in folder.messages if m.recent),
        "UIDNEXT": folder.uidnext,
        "UIDVALIDITY": folder.uidvalidity,
        "UNSEEN": sum(1 for m in folder.messages if "\\Seen" not in m.flags),
    }
    if session.selected == folder.name:
        values["RECENT"] = len(session.recent)
    # Dovecot 2.3 lists the items in this fixed order, whatever the request's.
    body = " ".join(f"{item} {values[item]}" for item in _STATUS_ITEMS if item in items)
    await session.send_line(
        b"* STATUS " + wire_name(folder.name) + f" ({body})".encode()
    )
    return "Status completed."


async def append(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    name = mailbox_name(parser)
    parser.space()
    flags: list[str] = []
    if parser.peek() == 0x28:
        flags = parser.flag_list()
        parser.space()
    date = None
    if parser.peek() == 0x22:
        date = parser.date_time()
        parser.space()
    message = parser.literal()
    parser.end()
    if not session.store.has_folder(session.user or "", name):
        raise CommandError("NO", f"[TRYCREATE] Mailbox does not exist: {name}")
    folder = session.store.folder(session.user or "", name)
    new_uid = session.store.deliver(
        session.user or "",
        folder.name,
        message,
        normalize_flags(flags),
        date,
        origin=session,
    )
    return f"[APPENDUID {folder.uidvalidity} {new_uid}] Append completed."


async def check(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.end()
    return "Check completed."


async def close(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.end()
    if not session.readonly and session.selected is not None:
        doomed = [m.uid for m in session.view if "\\Deleted" in m.flags]
        session.store.expunge(
            session.user or "", session.selected, doomed, origin=session
        )
    session.unselect()
    return "Close completed."


async def unselect(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.end()
    session.unselect()
    return "Unselect completed."


async def expunge(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    allowed: set[int] | None = None
    if uid:
        parser.space()
        ranges = parser.sequence_set()
        allowed = {session.view_uids[i] for i in resolve(ranges, session.view_uids)}
    parser.end()
    if session.readonly:
        raise CommandError("NO", "[READ-ONLY] Mailbox is open read-only.")
    doomed = [
        m.uid
        for m in session.view
        if "\\Deleted" in m.flags and (allowed is None or m.uid in allowed)
    ]
    session.store.expunge(
        session.user or "", session.selected or "", doomed, origin=session
    )
    return "Expunge completed."


async def idle(session: Session, tag: bytes, parser: Parser, uid: bool) -> None:
    """Send updates as they happen until the client sends DONE."""
    parser.end()
    await session.send_line("+ idling")
    await session.flush_updates()
    line_task = asyncio.ensure_future(session.read_line())
    try:
        while True:
            wake_task = asyncio.ensure_future(session.wake.wait())
            done, _ = await asyncio.wait(
                {line_task, wake_task}, return_when=asyncio.FIRST_COMPLETED
            )
            wake_task.cancel()
            if wake_task in done:
                await session.flush_updates()
            if line_task in done:
                break
        line = line_task.result()
    finally:
        if not line_task.done():
            line_task.cancel()
    session.record_client(line.rstrip(b"\r\n"))
    await session.flush_updates()
    if line.strip().upper() == b"DONE":
        await session.send_line(tag + b" OK Idle completed.")
    else:
        await session.send_line(tag + b" BAD Expected DONE to end IDLE.")
    return None
