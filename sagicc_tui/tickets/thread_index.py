"""Outlook Thread-Index: a 22-byte conversation header plus 5-byte child blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HEADER_SIZE = 22
CHILD_BLOCK_SIZE = 5
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ThreadIndex:
    """A parsed Thread-Index (MS-OXOMSG PidTagConversationIndex).

    ``root`` is the 22-byte header: a reserved byte, the top 5 bytes of a
    FILETIME, then a 16-byte conversation GUID. Each reply adds one 5-byte
    child block, so ``depth`` counts the replies since the conversation
    started.
    """

    root: bytes
    child_blocks: tuple[bytes, ...]

    @property
    def depth(self) -> int:
        return len(self.child_blocks)

    @property
    def guid(self) -> bytes:
        return self.root[6:]

    @property
    def started_at(self) -> datetime:
        """Return the time the header carries, to about 1.7 seconds."""
        # The 5 header bytes are the high 40 bits of a 64-bit FILETIME
        # (100-nanosecond ticks since 1601), so the low 24 bits are zero.
        ticks = int.from_bytes(self.root[1:6], "big") << 24
        return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)

    def extends(self, other: ThreadIndex) -> bool:
        """Tell whether this index continues ``other``'s conversation.

        It must have the same root and more child blocks, and begin with all
        of ``other``'s blocks.
        """
        if self.root != other.root or self.depth <= other.depth:
            return False
        return self.child_blocks[: other.depth] == other.child_blocks


def parse_thread_index(value: bytes | None) -> ThreadIndex | None:
    """Parse base64-decoded Thread-Index bytes; None when the length is invalid.

    A valid value is the 22-byte header followed by whole 5-byte blocks.
    """
    if not value or len(value) < HEADER_SIZE:
        return None
    if (len(value) - HEADER_SIZE) % CHILD_BLOCK_SIZE:
        return None

    blocks = tuple(
        value[start : start + CHILD_BLOCK_SIZE]
        for start in range(HEADER_SIZE, len(value), CHILD_BLOCK_SIZE)
    )
    return ThreadIndex(root=value[:HEADER_SIZE], child_blocks=blocks)


def make_thread_index(guid: bytes, started_at: datetime) -> bytes:
    """Build a 22-byte Thread-Index header, as Outlook does for a new message."""
    if len(guid) != 16:
        raise ValueError(f"invalid conversation GUID: {len(guid)} bytes, need 16")

    ticks = (started_at - _FILETIME_EPOCH) // timedelta(microseconds=1) * 10
    return b"\x01" + (ticks >> 24).to_bytes(5, "big") + guid


def add_child_block(value: bytes, block: bytes = b"\x00\x00\x00\x00\x01") -> bytes:
    """Return ``value`` with one more 5-byte child block, as a reply carries."""
    if parse_thread_index(value) is None:
        raise ValueError(f"invalid Thread-Index of {len(value)} bytes")
    if len(block) != CHILD_BLOCK_SIZE:
        raise ValueError(f"invalid child block: {len(block)} bytes, need 5")
    return value + block
