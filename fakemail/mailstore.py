"""In-memory mailboxes of a fakemail run: folders, messages, flags and UIDs.

``MailStore`` contains, per user, folders with a UIDVALIDITY, a UIDNEXT and
messages (uid, raw bytes, flags, internal date). The timeline, SMTP delivery
and the IMAP server all change mail through its methods. Each change goes
to the listeners registered with ``subscribe`` as a ``StoreEvent``, so that
IMAP sessions can send EXISTS, EXPUNGE and FETCH FLAGS updates.

Rules that callers rely on:

- Raw messages are stored with CRLF line ends (bare LF is converted on
  delivery) because IMAP sizes and literals count CRLF.
- UIDVALIDITY values come from a counter that starts at ``uidvalidity_seed``,
  never from the wall clock, so a scenario replays with the same values.
- Folder names are Unicode with ``/`` as the hierarchy delimiter; ``INBOX``
  is case-insensitive and exists for every user from first use.
- User names are case-insensitive.
- The store is not thread-safe: call it from the event loop that runs the
  servers.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DELIMITER = "/"
INBOX = "INBOX"
SYSTEM_FLAGS = {
    flag.casefold(): flag
    for flag in ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")
}
_BARE_LF = re.compile(rb"(?<!\r)\n")


class MailStoreError(LookupError):
    """A folder or message that a caller named does not exist, or already does."""


@dataclass(eq=False)
class Message:
    """A stored message; ``cache`` keeps parsed MIME structure for the IMAP side."""

    uid: int
    raw: bytes
    flags: set[str]
    internaldate: datetime
    recent: bool = True
    cache: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(eq=False)
class Folder:
    """A mailbox with its messages in ascending UID order."""

    name: str
    uidvalidity: int
    uidnext: int = 1
    messages: list[Message] = field(default_factory=list)
    subscribed: bool = True

    def find(self, uid: int) -> Message | None:
        """Return the message with ``uid``, or None."""
        index = bisect.bisect_left(self.messages, uid, key=_uid_of)
        if index < len(self.messages) and self.messages[index].uid == uid:
            return self.messages[index]
        return None


class EventKind(enum.Enum):
    """Kind of change to a folder."""

    DELIVERED = "delivered"
    FLAGS = "flags"
    EXPUNGED = "expunged"
    UIDVALIDITY = "uidvalidity"
    CREATED = "created"
    DELETED = "deleted"
    RENAMED = "renamed"


@dataclass(frozen=True)
class StoreEvent:
    """A change; ``origin`` is the object that asked for it (e.g. a session)."""

    kind: EventKind
    user: str
    folder: str
    uids: tuple[int, ...] = ()
    new_name: str | None = None
    origin: object = None


Listener = Callable[[StoreEvent], None]


def normalize_flag(flag: str) -> str:
    """Return system flags in canonical case; keywords unchanged."""
    return SYSTEM_FLAGS.get(flag.casefold(), flag)


def normalize_folder(name: str) -> str:
    """Return ``name`` with INBOX (any case) spelled ``INBOX``."""
    head, sep, tail = name.partition(DELIMITER)
    if head.upper() == INBOX:
        return INBOX + sep + tail
    return name


def to_crlf(raw: bytes) -> bytes:
    """Return ``raw`` with every bare LF turned into CRLF."""
    if raw.count(b"\n") == raw.count(b"\r\n"):
        return raw
    return _BARE_LF.sub(b"\r\n", raw)


def _uid_of(message: Message) -> int:
    return message.uid


class MailStore:
    """Every user's folders; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        uidvalidity_seed: int = 1,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._users: dict[str, dict[str, Folder]] = {}
        self._uidvalidity = itertools.count(uidvalidity_seed)
        self._now = now or (lambda: datetime.now(UTC))
        self._listeners: list[Listener] = []

    # Listeners

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every change; return a function that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: StoreEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # Folders

    def _folders_of(self, user: str) -> dict[str, Folder]:
        key = user.casefold()
        folders = self._users.get(key)
        if folders is None:
            folders = {INBOX: Folder(INBOX, next(self._uidvalidity))}
            self._users[key] = folders
        return folders

    def folders(self, user: str) -> list[Folder]:
        """Return ``user``'s folders sorted by name, INBOX first."""
        folders = self._folders_of(user)
        return sorted(folders.values(), key=lambda f: (f.name != INBOX, f.name))

    def has_folder(self, user: str, name: str) -> bool:
        """Return True if ``user`` has a folder called ``name``."""
        return normalize_folder(name) in self._folders_of(user)

    def folder(self, user: str, name: str) -> Folder:
        """Return the folder ``name``; raise MailStoreError if it does not exist."""
        folder = self._folders_of(user).get(normalize_folder(name))
        if folder is None:
            raise MailStoreError(
                f"folder {name!r} not found for user {user!r}; create it first"
            )
        return folder

    def create_folder(self, user: str, name: str, *, exist_ok: bool = False) -> Folder:
        """Create folder ``name`` (not its parents) with a fresh UIDVALIDITY."""
        name = normalize_folder(name)
        if not name or name.startswith(DELIMITER) or DELIMITER * 2 in name:
            raise ValueError(f"invalid folder name {name!r}")
        folders = self._folders_of(user)
        if name in folders:
            if exist_ok:
                return folders[name]
            raise MailStoreError(f"folder {name!r} already exists for user {user!r}")
        folder = Folder(name, next(self._uidvalidity))
        folders[name] = folder
        self._emit(StoreEvent(EventKind.CREATED, user, name))
        return folder

    def delete_folder(self, user: str, name: str, *, origin: object = None) -> None:
        """Delete folder ``name`` and its messages; INBOX cannot be deleted."""
        folder = self.folder(user, name)
        if folder.name == INBOX:
            raise MailStoreError("INBOX cannot be deleted")
        del self._folders_of(user)[folder.name]
        self._emit(StoreEvent(EventKind.DELETED, user, folder.name, origin=origin))

    def rename_folder(
        self, user: str, old: str, new: str, *, origin: object = None
    ) -> None:
        """Rename ``old`` and its subfolders to ``new``.

        Renaming INBOX moves its messages into a new folder and leaves an
        empty INBOX, as RFC 3501 requires.
        """
        folders = self._folders_of(user)
        source = self.folder(user, old)
        new = normalize_folder(new)
        if new in folders:
            raise MailStoreError(f"folder {new!r} already exists for user {user!r}")
        if source.name == INBOX:
            target = self.create_folder(user, new)
            uids = tuple(message.uid for message in source.messages)
            for message in source.messages:
                self._append(target, message.raw, message.flags, message.internaldate)
            source.messages.clear()
            self._emit(StoreEvent(EventKind.EXPUNGED, user, INBOX, uids, origin=origin))
            return
        old_name = source.name
        prefix = old_name + DELIMITER
        moved = [
            name for name in folders if name == old_name or name.startswith(prefix)
        ]
        for name in moved:
            folder = folders.pop(name)
            folder.name = new + name[len(old_name) :]
            folders[folder.name] = folder
            self._emit(
                StoreEvent(
                    EventKind.RENAMED, user, name, new_name=folder.name, origin=origin
                )
            )

    # Messages

    def messages(self, user: str, folder: str) -> list[Message]:
        """Return the messages of ``folder`` in UID order (a copy of the list)."""
        return list(self.folder(user, folder).messages)

    def _append(
        self,
        folder: Folder,
        raw: bytes,
        flags: Iterable[str],
        internaldate: datetime | None,
    ) -> Message:
        date = internaldate or self._now()
        if date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
        message = Message(
            uid=folder.uidnext,
            raw=to_crlf(bytes(raw)),
            flags={normalize_flag(flag) for flag in flags},
            internaldate=date,
        )
        folder.messages.append(message)
        folder.uidnext += 1
        return message

    def deliver(
        self,
        user: str,
        folder: str,
        raw: bytes,
        flags: Iterable[str] = (),
        internaldate: datetime | None = None,
        *,
        origin: object = None,
    ) -> int:
        """Append ``raw`` to ``folder`` and return its UID."""
        target = self.folder(user, folder)
        message = self._append(target, raw, flags, internaldate)
        self._emit(
            StoreEvent(
                EventKind.DELIVERED, user, target.name, (message.uid,), origin=origin
            )
        )
        return message.uid

    def set_flags(
        self,
        user: str,
        folder: str,
        uid: int,
        flags: Iterable[str],
        *,
        origin: object = None,
    ) -> None:
        """Replace the flags of message ``uid``."""
        self.store_flags(user, folder, [uid], flags, "set", origin=origin)

    def store_flags(
        self,
        user: str,
        folder: str,
        uids: Iterable[int],
        flags: Iterable[str],
        mode: str,
        *,
        origin: object = None,
    ) -> list[int]:
        """Set, add or remove (``mode`` "set", "add", "remove") flags on ``uids``.

        Returns the UIDs whose flags changed; unknown UIDs are skipped.
        Raises MailStoreError when a single UID given to ``set_flags`` is unknown.
        """
        target = self.folder(user, folder)
        new_flags = {normalize_flag(flag) for flag in flags}
        changed: list[int] = []
        uid_list = list(uids)
        for uid in uid_list:
            message = target.find(uid)
            if message is None:
                if len(uid_list) == 1 and mode == "set":
                    raise MailStoreError(
                        f"message UID {uid} not found in {target.name!r}"
                    )
                continue
            before = set(message.flags)
            if mode == "set":
                message.flags = set(new_flags)
            elif mode == "add":
                message.flags |= new_flags
            elif mode == "remove":
                message.flags -= new_flags
            else:
                raise ValueError(f"flag mode must be set, add or remove, not {mode!r}")
            if message.flags != before:
                changed.append(uid)
        if changed:
            self._emit(
                StoreEvent(
                    EventKind.FLAGS, user, target.name, tuple(changed), origin=origin
                )
            )
        return changed

    def expunge(
        self, user: str, folder: str, uids: Iterable[int], *, origin: object = None
    ) -> list[int]:
        """Remove messages ``uids`` for good; return the UIDs that were removed."""
        target = self.folder(user, folder)
        doomed = set(uids)
        removed = [m.uid for m in target.messages if m.uid in doomed]
        if removed:
            target.messages = [m for m in target.messages if m.uid not in doomed]
            self._emit(
                StoreEvent(
                    EventKind.EXPUNGED, user, target.name, tuple(removed), origin=origin
                )
            )
        return removed

    def copy(
        self,
        user: str,
        folder: str,
        uids: Iterable[int],
        destination: str,
        *,
        origin: object = None,
    ) -> list[tuple[int, int]]:
        """Copy messages ``uids`` to ``destination``; return (old, new) UID pairs."""
        source = self.folder(user, folder)
        target = self.folder(user, destination)
        pairs: list[tuple[int, int]] = []
        for uid in uids:
            message = source.find(uid)
            if message is None:
                continue
            copied = self._append(
                target, message.raw, message.flags, message.internaldate
            )
            copied.cache = message.cache
            pairs.append((uid, copied.uid))
        if pairs:
            new_uids = tuple(new for _, new in pairs)
            self._emit(
                StoreEvent(
                    EventKind.DELIVERED, user, target.name, new_uids, origin=origin
                )
            )
        return pairs

    def reset_uidvalidity(self, user: str, folder: str) -> int:
        """Give ``folder`` a new UIDVALIDITY and renumber its messages from 1."""
        target = self.folder(user, folder)
        target.uidvalidity = next(self._uidvalidity)
        for number, message in enumerate(target.messages, start=1):
            message.uid = number
        target.uidnext = len(target.messages) + 1
        self._emit(StoreEvent(EventKind.UIDVALIDITY, user, target.name))
        return target.uidvalidity

    def claim_recent(self, user: str, folder: str) -> set[int]:
        """Return the UIDs still \\Recent and clear the flag, for one session."""
        target = self.folder(user, folder)
        recent = {m.uid for m in target.messages if m.recent}
        for message in target.messages:
            message.recent = False
        return recent
