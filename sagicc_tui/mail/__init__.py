"""Message parsing: raw bytes to a lossless record, decoding and classification."""

from sagicc_tui.mail.body import attachment_bytes, parse_body
from sagicc_tui.mail.parse import derived_message_id, parse_message
from sagicc_tui.mail.record import (
    Address,
    Attachment,
    MessageKind,
    MessageRecord,
    RecordFlag,
)

__all__ = [
    "Address",
    "Attachment",
    "MessageKind",
    "MessageRecord",
    "RecordFlag",
    "attachment_bytes",
    "derived_message_id",
    "parse_body",
    "parse_message",
]
