"""Grouping messages into tickets: subject normalization, tags, signed ids."""

from sagicc_tui.tickets.grouping import MODES, assign
from sagicc_tui.tickets.index import (
    Action,
    Assignment,
    Link,
    MemoryTicketIndex,
    TicketIndex,
    TicketRef,
    TicketStatus,
)
from sagicc_tui.tickets.message_id import make_message_id, verify_message_id
from sagicc_tui.tickets.subject import has_reply_prefix, normalize_subject
from sagicc_tui.tickets.tag import add_tag, find_tag_numbers, format_tag
from sagicc_tui.tickets.thread_index import ThreadIndex, parse_thread_index

__all__ = [
    "MODES",
    "Action",
    "Assignment",
    "Link",
    "MemoryTicketIndex",
    "ThreadIndex",
    "TicketIndex",
    "TicketRef",
    "TicketStatus",
    "add_tag",
    "assign",
    "find_tag_numbers",
    "format_tag",
    "has_reply_prefix",
    "make_message_id",
    "normalize_subject",
    "parse_thread_index",
    "verify_message_id",
]
