"""Message commands on the selected mailbox: FETCH, STORE, COPY, MOVE, SEARCH."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakemail.imap import fetch as fetching
from fakemail.imap.mailboxes import mailbox_name
from fakemail.imap.search import parse_search, run_search
from fakemail.imap.session import CommandError, normalize_flags
from fakemail.imap.syntax import ParseError, Parser, SequenceSet, resolve

if TYPE_CHECKING:
    from fakemail.imap.session import Session


def _selected_indexes(session: Session, ranges: SequenceSet, uid: bool) -> list[int]:
    if uid:
        return resolve(ranges, session.view_uids)
    count = len(session.view)
    for first, last in ranges:
        for value in (first, last):
            if value is not None and value > count:
                raise CommandError(
                    "BAD",
                    f"Invalid sequence number {value}: mailbox has {count} messages.",
                )
    return resolve(ranges, list(range(1, count + 1)))


async def fetch(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    ranges = parser.sequence_set()
    parser.space()
    items = fetching.parse_items(parser)
    parser.end()
    indexes = _selected_indexes(session, ranges, uid)

    # A non-PEEK body fetch sets \Seen, and the messages it changed get
    # FLAGS in their response even when the client did not request it.
    seen_now: set[int] = set()
    if fetching.needs_seen(items) and not session.readonly:
        seen_now = _mark_seen(session, indexes)
    with_flags = items
    if not any(item.kind == b"FLAGS" for item in items):
        # Dovecot 2.3 puts the implied FLAGS first; RFC 3501 allows any order.
        with_flags = [fetching.Item(kind=b"FLAGS", key=b"FLAGS"), *items]

    await _send_fetch_responses(session, indexes, items, with_flags, seen_now, uid)
    return ("UID " if uid else "") + "Fetch completed."


def _mark_seen(session: Session, indexes: list[int]) -> set[int]:
    """Add \\Seen to the selected messages; return the UIDs that lacked it."""
    unseen = [
        session.view[i].uid for i in indexes if "\\Seen" not in session.view[i].flags
    ]
    if not unseen:
        return set()
    changed = session.store.store_flags(
        session.user or "",
        session.selected or "",
        unseen,
        ["\\Seen"],
        "add",
        origin=session,
    )
    return set(changed)


async def _send_fetch_responses(
    session: Session,
    indexes: list[int],
    items: list[fetching.Item],
    with_flags: list[fetching.Item],
    seen_now: set[int],
    uid: bool,
) -> None:
    """Render the responses and hand them to the session in 4 MB chunks."""
    view = session.view
    render = fetching.render
    wants_flags = with_flags is items
    chunk: list[bytes] = []
    size = 0
    for index in indexes:
        message = view[index]
        chosen = with_flags if message.uid in seen_now else items
        flags = (
            session.flags_of(message) if wants_flags or chosen is with_flags else b""
        )
        size += render(index + 1, message, chosen, flags, uid, chunk)
        if size > 1 << 22:
            await session.send(b"".join(chunk))
            chunk, size = [], 0
    if chunk:
        await session.send(b"".join(chunk))


async def store(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    ranges = parser.sequence_set()
    parser.space()
    action = parser.atom().upper()
    modes = {b"FLAGS": "set", b"+FLAGS": "add", b"-FLAGS": "remove"}
    silent = action.endswith(b".SILENT")
    mode = modes.get(action.removesuffix(b".SILENT"))
    if mode is None:
        raise ParseError(f"invalid STORE action {action.decode()}")
    parser.space()
    flags = parser.flag_list()
    while parser.skip(b" "):
        flags.append(parser.flag())
    parser.end()

    if session.readonly:
        raise CommandError("NO", "[READ-ONLY] Mailbox is open read-only.")
    indexes = _selected_indexes(session, ranges, uid)
    uids = [session.view[i].uid for i in indexes]
    session.store.store_flags(
        session.user or "",
        session.selected or "",
        uids,
        normalize_flags(flags),
        mode,
        origin=session,
    )
    if not silent:
        for index in indexes:
            message = session.view[index]
            await session.send(session.flags_response(index + 1, message, uid=uid))
    return ("UID " if uid else "") + "Store completed."


async def copy(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    pairs, uidvalidity = await _copy(session, parser, uid)
    if not pairs:
        return "No messages copied."
    return f"{_copyuid(pairs, uidvalidity)} Copy completed."


async def move(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    if session.readonly:
        raise CommandError("NO", "[READ-ONLY] Mailbox is open read-only.")
    pairs, uidvalidity = await _copy(session, parser, uid)
    if pairs:
        await session.send(f"* OK {_copyuid(pairs, uidvalidity)} Moved.\r\n".encode())
        session.store.expunge(
            session.user or "",
            session.selected or "",
            [old for old, _ in pairs],
            origin=session,
        )
    return "Move completed."


async def _copy(
    session: Session, parser: Parser, uid: bool
) -> tuple[list[tuple[int, int]], int]:
    parser.space()
    ranges = parser.sequence_set()
    parser.space()
    destination = mailbox_name(parser)
    parser.end()
    user = session.user or ""
    if not session.store.has_folder(user, destination):
        raise CommandError("NO", f"[TRYCREATE] Mailbox does not exist: {destination}")
    indexes = _selected_indexes(session, ranges, uid)
    uids = [session.view[i].uid for i in indexes]
    target = session.store.folder(user, destination)
    pairs = session.store.copy(
        user, session.selected or "", uids, target.name, origin=session
    )
    return pairs, target.uidvalidity


def _copyuid(pairs: list[tuple[int, int]], uidvalidity: int) -> str:
    return f"[COPYUID {uidvalidity} {_uid_set(pairs, 0)} {_uid_set(pairs, 1)}]"


def _uid_set(pairs: list[tuple[int, int]], column: int) -> str:
    """Return one column of ``pairs`` as a compact sequence set such as 1:3,7."""
    ranges: list[list[int]] = []
    for pair in pairs:
        value = pair[column]
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in ranges)


async def search(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    key = parse_search(parser)
    parser.end()
    found = run_search(session, key)
    if uid:
        numbers = [session.view[i].uid for i in found]
    else:
        numbers = [i + 1 for i in found]
    await session.send(
        ("* SEARCH" + "".join(f" {n}" for n in numbers) + "\r\n").encode()
    )
    return ("UID " if uid else "") + "Search completed."
