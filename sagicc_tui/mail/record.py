"""The parsed form of one email: what grouping, the store and the console read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class MessageKind(StrEnum):
    """Classification of a message: normal, RFC 3834 auto-reply or RFC 3464 bounce."""

    NORMAL = "normal"
    AUTO_REPLY = "auto-reply"
    BOUNCE = "bounce"


class RecordFlag(StrEnum):
    """Problems found while parsing; each is shown to the operator."""

    UNPARSEABLE = "unparseable"  # stored raw, fields are best effort
    OVERSIZE = "oversize"  # over the channel's size limit: headers and size only
    DECODE_REPLACED = "decode-replaced"  # some bytes became U+FFFD
    CHARSET_FALLBACK = "charset-fallback"  # a declared charset was missing or wrong
    NO_MESSAGE_ID = "no-message-id"  # message_id was derived from the raw bytes
    NO_DATE = "no-date"  # date is the arrival time
    MALFORMED_HEADER = "malformed-header"


@dataclass(slots=True, frozen=True)
class Address:
    """One mailbox: display name and address as written (``addr`` may be empty)."""

    name: str
    addr: str

    @property
    def key(self) -> str:
        """The address in lower case, for comparing senders."""
        return self.addr.strip().lower()

    def __str__(self) -> str:
        if self.name:
            return f"{self.name} <{self.addr}>"
        return self.addr


@dataclass(slots=True)
class Attachment:
    """One attachment or inline part; ``size`` is the decoded size in bytes."""

    filename: str
    content_type: str
    size: int
    content_id: str | None = None
    inline: bool = False
    # Index of the MIME part in walk() order, so the raw bytes can be re-read.
    part_index: int = -1


@dataclass(slots=True)
class MessageRecord:
    """A parsed email. ``raw`` is kept byte for byte whatever else fails.

    Message-IDs are stored without angle brackets. ``body_text`` and
    ``attachments`` are filled by the body pass and may be empty after a
    headers-only parse (``body_parsed`` shows which).
    """

    raw: bytes
    message_id: str
    date: datetime
    subject: str = ""
    from_addr: Address | None = None
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    thread_index: bytes | None = None  # Outlook Thread-Index, base64-decoded
    thread_topic: str | None = None
    gm_thrid: str | None = None  # Gmail X-GM-THRID
    kind: MessageKind = MessageKind.NORMAL
    is_list: bool = False  # List-Id or Precedence: list
    returned_message_ids: list[str] = field(default_factory=list)  # bounces
    forwarded_message_ids: list[str] = field(default_factory=list)
    body_text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    body_parsed: bool = False
    flags: set[RecordFlag] = field(default_factory=set)
    size: int = 0

    @property
    def participants(self) -> set[str]:
        """Lower-case addresses from From, To and Cc."""
        found = {a.key for a in (*self.to, *self.cc) if a.key}
        if self.from_addr and self.from_addr.key:
            found.add(self.from_addr.key)
        return found
