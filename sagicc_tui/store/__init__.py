"""The SQLite ticket store shared by one engine and many consoles."""

from sagicc_tui.store.actions import TicketActionError, TicketNotFoundError
from sagicc_tui.store.base import StoreOpenError
from sagicc_tui.store.lock import EngineLock, acquire_engine_lock
from sagicc_tui.store.models import (
    AuditEvent,
    Change,
    ChangeKind,
    ChannelState,
    ChannelStateName,
    Cursor,
    Direction,
    IngestItem,
    OutboxItem,
    OutboxState,
    StoredMessage,
    Ticket,
    TicketFilter,
    TicketStatus,
)
from sagicc_tui.store.outbox import OutboxStateError
from sagicc_tui.store.schema import SCHEMA_VERSION, SchemaTooNewError
from sagicc_tui.store.tickets_store import TicketStore

__all__ = [
    "SCHEMA_VERSION",
    "AuditEvent",
    "Change",
    "ChangeKind",
    "ChannelState",
    "ChannelStateName",
    "Cursor",
    "Direction",
    "EngineLock",
    "IngestItem",
    "OutboxItem",
    "OutboxState",
    "OutboxStateError",
    "SchemaTooNewError",
    "StoreOpenError",
    "StoredMessage",
    "Ticket",
    "TicketActionError",
    "TicketFilter",
    "TicketNotFoundError",
    "TicketStatus",
    "TicketStore",
    "acquire_engine_lock",
]
