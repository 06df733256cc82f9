"""Ticket lookups grouping needs (``TicketIndex``) and an in-memory implementation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from sagicc_tui.mail.record import MessageRecord

# Outlook's Thread-Index starts with a 22-byte header that names the conversation.
THREAD_ROOT_SIZE = 22


class TicketStatus(StrEnum):
    """Whether a ticket is open or closed (same values as the store's status)."""

    OPEN = "open"
    CLOSED = "closed"


class Action(StrEnum):
    """Instruction to the store for one assigned message."""

    JOINED = "joined"  # add to ``ticket_id``, status unchanged
    OPENED = "opened"  # open a new ticket
    REOPENED = "reopened"  # add to the closed ticket ``ticket_id`` and reopen it
    OPENED_LINKED = "opened-linked"  # new ticket linked to ``linked_ticket_id``
    NOT_TICKETED = "not-ticketed"  # store the message without a ticket
    DUPLICATE = "duplicate"  # Message-ID already stored on this channel: store nothing


class Link(StrEnum):
    """Header, tag or rule that matched, in machine form (``reason`` is the prose)."""

    NONE = "none"  # nothing matched, or the mode never joins
    OWN_MESSAGE_ID = "own-message-id"  # the message's own id is one we signed
    IN_REPLY_TO = "in-reply-to"
    REFERENCES = "references"
    REPLIED_BY = "replied-by"  # a stored message names this one (reply came first)
    FORWARDED = "forwarded"  # Message-ID of an attached message/rfc822 original
    RETURNED = "returned"  # Message-ID of the message a bounce returns
    THREAD_INDEX = "thread-index"
    TAG = "tag"  # our ticket tag in the subject
    SUBJECT_PREFIX = "subject-prefix"  # "Re:" on a ticket's subject, no headers
    CUSTOMER = "customer"
    SUBJECT = "subject"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class TicketRef:
    """The fields of one ticket that grouping reads.

    ``id`` is the store's unique row id, ``number`` the number operators see in
    the ``[#N]`` tag. ``customer`` is a lower-case address and
    ``subject_key`` the subject after ``normalize_subject``. ``closed_at`` is
    set only while the ticket is closed; the reopen window counts from it.
    """

    id: int
    number: int
    channel: str
    status: TicketStatus
    customer: str
    subject_key: str
    last_activity: datetime
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == TicketStatus.OPEN


@dataclass(frozen=True, slots=True)
class Assignment:
    """Grouping's decision for one message, with the reason.

    ``ticket_id`` is set for ``joined`` and ``reopened``. For ``duplicate`` it
    is the ticket of the stored copy, or None when that copy has no ticket.
    It is None for ``opened``, ``opened-linked`` and ``not-ticketed``.
    ``customer`` and ``subject_key`` are what a new ticket stores.
    ``outbound`` marks our own message (a signed Message-ID or one of our
    addresses as sender). ``reason`` is shown to operators as is.
    """

    action: Action
    ticket_id: int | None
    reason: str
    link: Link = Link.NONE
    linked_ticket_id: int | None = None
    outbound: bool = False
    customer: str = ""
    subject_key: str = ""

    @property
    def opens_ticket(self) -> bool:
        return self.action in (Action.OPENED, Action.OPENED_LINKED)


@runtime_checkable
class TicketIndex(Protocol):
    """Read-only lookups over the tickets and messages of one channel.

    Message-IDs are passed without angle brackets, exactly as in
    ``MessageRecord``; implementations compare them as given (no case
    folding). Addresses are lower case. Every method that returns several
    tickets orders them most recently active first and lists each ticket
    once. Merged tickets are never returned: return the merge target instead.
    """

    def contains_message(self, message_id: str) -> bool:
        """Tell whether a message (in or outbound, ticketed or not) has this id."""
        ...

    def ticket_of_message(self, message_id: str) -> TicketRef | None:
        """Return the ticket holding the message with this id, open or closed."""
        ...

    def tickets_referencing(self, message_id: str) -> list[TicketRef]:
        """Return tickets with a stored message naming this id.

        A message names an id in its In-Reply-To or References. This finds the
        ticket of a reply that was stored before its parent.
        """
        ...

    def tickets_with_thread_root(
        self, root: bytes, sender: str | None = None
    ) -> list[TicketRef]:
        """Return tickets with a message whose Thread-Index starts with ``root``.

        ``root`` is the 22-byte Thread-Index header. With ``sender``, only
        messages from that address count.
        """
        ...

    def latest_customer_ticket(
        self, customer: str, subject_key: str | None = None
    ) -> TicketRef | None:
        """Return the customer's ticket, open ones first.

        The most recently active open ticket of ``customer`` wins; when none
        is open, the most recently active closed one. With ``subject_key``,
        only tickets with that normalized subject count.
        """
        ...

    def tickets_with_subject(self, subject_key: str) -> list[TicketRef]:
        """Return tickets with this normalized subject, from any customer."""
        ...

    def ticket_by_number(self, number: int) -> TicketRef | None:
        """Return the ticket operators know as ``[#number]`` on this channel."""
        ...

    def participants(self, ticket_id: int) -> frozenset[str]:
        """Return the lower-case From, To and Cc addresses of a ticket's messages."""
        ...


@dataclass(slots=True)
class _MemoryTicket:
    ref: TicketRef
    participants: set[str] = field(default_factory=set)
    linked_ticket_id: int | None = None
    message_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _MemoryMessage:
    ticket_id: int | None
    sender: str
    named_ids: tuple[str, ...]
    thread_root: bytes | None
    outbound: bool


class MemoryTicketIndex:
    """A ``TicketIndex`` kept in dictionaries, for tests and ``sagicc group``.

    ``apply`` records an ``Assignment`` the way the store does.
    Ticket numbers count from 1 and equal the ids.
    """

    def __init__(self, channel: str = "default") -> None:
        self.channel = channel
        self._tickets: dict[int, _MemoryTicket] = {}
        self._messages: dict[str, _MemoryMessage] = {}
        self._named_by: dict[str, list[str]] = {}
        # Secondary indexes, so each lookup costs about the same at any size.
        self._by_customer: dict[str, set[int]] = {}
        self._by_subject: dict[str, set[int]] = {}
        self._by_root: dict[bytes, list[str]] = {}

    # Lookups of the TicketIndex protocol.

    def contains_message(self, message_id: str) -> bool:
        return message_id in self._messages

    def ticket_of_message(self, message_id: str) -> TicketRef | None:
        message = self._messages.get(message_id)
        if message is None or message.ticket_id is None:
            return None
        return self._tickets[message.ticket_id].ref

    def tickets_referencing(self, message_id: str) -> list[TicketRef]:
        ticket_ids = {
            self._messages[reply].ticket_id
            for reply in self._named_by.get(message_id, [])
        }
        return self._refs(ticket_ids)

    def tickets_with_thread_root(
        self, root: bytes, sender: str | None = None
    ) -> list[TicketRef]:
        messages = [self._messages[key] for key in self._by_root.get(root, [])]
        ticket_ids = {
            message.ticket_id
            for message in messages
            if sender is None or message.sender == sender
        }
        return self._refs(ticket_ids)

    def latest_customer_ticket(
        self, customer: str, subject_key: str | None = None
    ) -> TicketRef | None:
        candidates = self._by_customer.get(customer, set())
        matches = [
            self._tickets[ticket_id].ref
            for ticket_id in candidates
            if subject_key is None
            or self._tickets[ticket_id].ref.subject_key == subject_key
        ]
        if not matches:
            return None
        return max(matches, key=lambda ref: (ref.is_open, ref.last_activity, ref.id))

    def tickets_with_subject(self, subject_key: str) -> list[TicketRef]:
        return self._refs(self._by_subject.get(subject_key, set()))

    def ticket_by_number(self, number: int) -> TicketRef | None:
        ticket = self._tickets.get(number)
        return ticket.ref if ticket else None

    def participants(self, ticket_id: int) -> frozenset[str]:
        ticket = self._tickets.get(ticket_id)
        return frozenset(ticket.participants) if ticket else frozenset()

    # Mutations, mirroring what the store does.

    def apply(
        self, record: MessageRecord, assignment: Assignment, *, now: datetime
    ) -> TicketRef | None:
        """Record ``record`` under ``assignment`` and return its ticket, if any.

        ``now`` becomes the ticket's last activity. A duplicate changes nothing.
        """
        if assignment.action == Action.DUPLICATE:
            return self.ticket_of_message(record.message_id)

        ticket = self._ticket_for(assignment, now)
        self._remember_message(record, assignment, ticket)
        if ticket is None:
            return None

        ticket.participants.update(record.participants)
        ticket.message_ids.append(record.message_id)
        last_activity = max(ticket.ref.last_activity, now)
        ticket.ref = replace(ticket.ref, last_activity=last_activity)
        return ticket.ref

    def close(self, ticket_id: int, at: datetime) -> TicketRef:
        """Close a ticket as an operator would; the reopen window starts at ``at``."""
        ticket = self._tickets[ticket_id]
        ticket.ref = replace(ticket.ref, status=TicketStatus.CLOSED, closed_at=at)
        return ticket.ref

    def tickets(self) -> list[TicketRef]:
        """Return every ticket in the order they were opened."""
        return [self._tickets[key].ref for key in sorted(self._tickets)]

    def message_ids(self, ticket_id: int) -> list[str]:
        """Return the Message-IDs of a ticket in the order they were applied."""
        return list(self._tickets[ticket_id].message_ids)

    def linked_ticket_id(self, ticket_id: int) -> int | None:
        return self._tickets[ticket_id].linked_ticket_id

    def _ticket_for(
        self, assignment: Assignment, now: datetime
    ) -> _MemoryTicket | None:
        if assignment.opens_ticket:
            return self._open(assignment, now)
        if assignment.ticket_id is None:
            return None

        ticket = self._tickets[assignment.ticket_id]
        if assignment.action == Action.REOPENED:
            ticket.ref = replace(ticket.ref, status=TicketStatus.OPEN, closed_at=None)
        return ticket

    def _open(self, assignment: Assignment, now: datetime) -> _MemoryTicket:
        number = len(self._tickets) + 1
        ref = TicketRef(
            id=number,
            number=number,
            channel=self.channel,
            status=TicketStatus.OPEN,
            customer=assignment.customer,
            subject_key=assignment.subject_key,
            last_activity=now,
        )
        ticket = _MemoryTicket(ref=ref, linked_ticket_id=assignment.linked_ticket_id)
        self._tickets[number] = ticket
        self._by_customer.setdefault(ref.customer, set()).add(number)
        self._by_subject.setdefault(ref.subject_key, set()).add(number)
        return ticket

    def _remember_message(
        self,
        record: MessageRecord,
        assignment: Assignment,
        ticket: _MemoryTicket | None,
    ) -> None:
        named = tuple(dict.fromkeys((*record.in_reply_to, *record.references)))
        root = record.thread_index[:THREAD_ROOT_SIZE] if record.thread_index else None
        if root is not None and len(root) < THREAD_ROOT_SIZE:
            root = None
        sender = record.from_addr.key if record.from_addr else ""
        self._messages[record.message_id] = _MemoryMessage(
            ticket_id=ticket.ref.id if ticket else None,
            sender=sender,
            named_ids=named,
            thread_root=root,
            outbound=assignment.outbound,
        )
        if root is not None:
            self._by_root.setdefault(root, []).append(record.message_id)
        for named_id in named:
            self._named_by.setdefault(named_id, []).append(record.message_id)

    def _refs(self, ticket_ids: Iterable[int | None]) -> list[TicketRef]:
        refs = [self._tickets[key].ref for key in set(ticket_ids) if key is not None]
        refs.sort(key=lambda ref: (ref.last_activity, ref.id), reverse=True)
        return refs
