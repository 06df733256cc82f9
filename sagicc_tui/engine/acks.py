"""Acknowledgements: one automatic answer with the ticket number per new ticket.

A channel with ``acknowledge_new_tickets`` on answers the message that
opened a ticket, marked as automatic (RFC 3834 ``Auto-Submitted:
auto-replied`` and Microsoft's ``X-Auto-Response-Suppress: All``) and
threaded to it. It never answers automatic mail, bounces, list mail, our
own addresses or senders that take no replies, and at most
``MAX_PER_HOUR`` times per address in any hour, so two auto-responders
cannot keep answering each other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from typing import Protocol

from sagicc_tui.engine.compose import Composed, build_reply
from sagicc_tui.engine.replies import (
    ReplyError,
    Route,
    queue_composed,
    route_for,
    signing_key,
)
from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageKind, MessageRecord
from sagicc_tui.settings import Config, SecretStore
from sagicc_tui.store import ChangeKind, Direction, OutboxItem, Ticket, TicketStore
from sagicc_tui.tickets import make_message_id

log = logging.getLogger(__name__)

# ``created_by`` of queued acknowledgements; the rate limit counts these.
ACK_ACTOR = "acknowledgement"

# Acknowledgements per recipient address in any window of RATE_WINDOW.
MAX_PER_HOUR = 3
RATE_WINDOW = timedelta(hours=1)

# Older messages opened their ticket during an import of existing mail; an
# acknowledgement days later would only confuse the customer.
MAX_AGE = timedelta(days=1)

# Local parts of addresses that do not read replies (RFC 3834 asks
# responders to leave such senders alone).
_NO_REPLY_LOCAL_PARTS = frozenset(
    {"noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon", "postmaster"}
)

# X-Auto-Response-Suppress values that ask us not to auto-reply.
_SUPPRESS_VALUES = frozenset({"all", "autoreply", "oof"})

ACK_BODY = (
    "Thank you for your message. We have opened ticket {tag} for it and will "
    "answer as soon as we can.\n\n"
    "Please keep {tag} in the subject when you write to us about this request.\n\n"
    "This is an automatic reply."
)


class NewTicketResult(Protocol):
    """The fields of an ingest result this module reads (``IngestResult`` has them)."""

    stored: bool
    new_ticket: bool
    ticket_id: int | None
    message_row_id: int | None


@dataclass(frozen=True, slots=True)
class AckDecision:
    """The outcome for one new ticket: queued (``item`` set) or skipped, and why."""

    ticket_id: int
    message_row_id: int
    reason: str
    item: OutboxItem | None = None


def skip_reason(record: MessageRecord, own_addresses: Iterable[str]) -> str | None:
    """Return why ``record`` must get no acknowledgement, or None when it may."""
    if record.kind == MessageKind.AUTO_REPLY:
        return "the message is an automatic reply"
    if record.kind == MessageKind.BOUNCE:
        return "the message is a bounce"
    if record.is_list:
        return "the message came through a mailing list"
    suppress = (
        BytesHeaderParser()
        .parsebytes(record.raw)
        .get_all("X-Auto-Response-Suppress", [])
    )
    values = {v.strip().lower() for text in suppress for v in str(text).split(",")}
    if values & _SUPPRESS_VALUES:
        return "the sender asked for no automatic replies (X-Auto-Response-Suppress)"

    address = recipient_of(record)
    if not address:
        return "the message has no sender address"
    if address in {a.strip().lower() for a in own_addresses}:
        return f"{address} is one of our own addresses"
    if address.partition("@")[0] in _NO_REPLY_LOCAL_PARTS:
        return f"{address} does not take replies"
    return None


def recipient_of(record: MessageRecord) -> str:
    """Return the address an answer goes to (Reply-To first), lower case."""
    candidates = record.reply_to or ([record.from_addr] if record.from_addr else [])
    return next((a.key for a in candidates if a.key), "")


def recent_acknowledgements(store: TicketStore, address: str, now: datetime) -> int:
    """Count acknowledgements queued for ``address`` within RATE_WINDOW before ``now``.

    The count comes from the store's outbox, so it persists across engine
    restarts and includes acknowledgements still waiting to be sent.
    """
    return store.count_outgoing(
        recipient=address, created_by=ACK_ACTOR, since=now - RATE_WINDOW
    )


def build_acknowledgement(
    record: MessageRecord,
    ticket: Ticket,
    route: Route,
    *,
    message_id: str,
    own_addresses: Iterable[str],
    now: datetime,
) -> Composed:
    """Build the acknowledgement of ``record``, threaded to it, marked automatic."""
    composed = build_reply(
        record,
        sender=route.sender,
        ticket_subject=ticket.subject,
        tag=ticket.tag,
        body=ACK_BODY.format(tag=ticket.tag),
        message_id=message_id,
        own_addresses=own_addresses,
        now=now,
    )
    composed.message["Auto-Submitted"] = "auto-replied"
    composed.message["X-Auto-Response-Suppress"] = "All"
    return composed


def maybe_acknowledge(
    store: TicketStore,
    config: Config,
    secrets_or_key: SecretStore | bytes,
    ingest_results: Iterable[NewTicketResult],
    *,
    now: datetime | None = None,
) -> list[AckDecision]:
    """Queue an acknowledgement for each new ticket of a channel that wants them.

    Call after each ingest batch is committed. Results that opened no
    ticket are ignored; every new ticket of a channel with
    ``acknowledge_new_tickets`` gets an AckDecision saying what was done.
    """
    moment = now or datetime.now(UTC)
    own = [c.sender_address for c in config.outgoing if c.sender_address]
    decisions = []
    for result in ingest_results:
        if not (result.stored and result.new_ticket):
            continue
        if result.ticket_id is None or result.message_row_id is None:
            continue
        decision = _acknowledge_one(
            store,
            config,
            secrets_or_key,
            result.ticket_id,
            result.message_row_id,
            own,
            moment,
        )
        if decision is not None:
            decisions.append(decision)
    return decisions


def _acknowledge_one(
    store: TicketStore,
    config: Config,
    secrets_or_key: SecretStore | bytes,
    ticket_id: int,
    message_row_id: int,
    own: list[str],
    now: datetime,
) -> AckDecision | None:
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        return None
    incoming = config.incoming_channel(ticket.channel)
    if incoming is None or not incoming.acknowledge_new_tickets:
        return None

    def skipped(reason: str) -> AckDecision:
        log.info("no acknowledgement for ticket #%s: %s", ticket.number, reason)
        return AckDecision(ticket_id, message_row_id, reason)

    message = store.get_message(message_row_id)
    if message is None or message.raw is None:
        return skipped("the message is no longer stored")
    if message.direction != Direction.IN:
        return skipped("the ticket was opened by our own message")
    if message.date < now - MAX_AGE:
        return skipped("the message is older than a day (imported existing mail)")
    record = parse_message(message.raw, encoding=incoming.encoding, with_body=False)
    reason = skip_reason(record, own)
    if reason is not None:
        return skipped(reason)
    address = recipient_of(record)
    if recent_acknowledgements(store, address, now) >= MAX_PER_HOUR:
        return skipped(
            f"{address} already got {MAX_PER_HOUR} acknowledgements within an hour"
        )

    try:
        route = route_for(config, ticket.channel)
    except ReplyError as error:
        log.warning("cannot acknowledge ticket #%s: %s", ticket.number, error)
        return AckDecision(ticket_id, message_row_id, str(error))
    key = signing_key(secrets_or_key)
    composed = build_acknowledgement(
        record,
        ticket,
        route,
        message_id=make_message_id(route.sender.domain, ticket.number, key),
        own_addresses=own,
        now=now,
    )
    item = queue_composed(store, route, composed, who=ACK_ACTOR, ticket=ticket, now=now)
    log.info("queued acknowledgement of ticket #%s to %s", ticket.number, address)
    return AckDecision(ticket_id, message_row_id, "queued", item)


@dataclass(frozen=True, slots=True)
class _NewTicket:
    ticket_id: int
    message_row_id: int
    stored: bool = True
    new_ticket: bool = True


class ChangeLogAcknowledger:
    """Acknowledges the tickets the store's change log announces as new.

    For engines that do not see ingest results directly: each call of
    ``acknowledge`` reads the changes since the previous call and passes
    each new ticket's first message to ``maybe_acknowledge``.
    """

    def __init__(
        self,
        store: TicketStore,
        config: Config,
        secrets_or_key: SecretStore | bytes,
        *,
        since: int | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.secrets_or_key = secrets_or_key
        self.seq = store.change_counter() if since is None else since

    def acknowledge(self, now: datetime | None = None) -> list[AckDecision]:
        """Acknowledge the tickets opened since the last call; return the decisions."""
        if not any(c.acknowledge_new_tickets for c in self.config.incoming):
            self.seq = self.store.change_counter()
            return []
        new: list[_NewTicket] = []
        for change in self.store.changes_since(self.seq):
            self.seq = change.seq
            if change.kind != ChangeKind.TICKET_NEW or change.ticket_id is None:
                continue
            messages = self.store.ticket_messages(change.ticket_id)
            if messages:
                new.append(_NewTicket(change.ticket_id, messages[0].id))
        return maybe_acknowledge(
            self.store, self.config, self.secrets_or_key, new, now=now
        )
