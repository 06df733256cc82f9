"""The grouping rules: which ticket a parsed message joins, opens or reopens."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sagicc_tui.mail.record import MessageKind, MessageRecord
from sagicc_tui.tickets.index import Action, Assignment, Link, TicketIndex, TicketRef
from sagicc_tui.tickets.message_id import verify_message_id
from sagicc_tui.tickets.subject import has_reply_prefix, normalize_subject
from sagicc_tui.tickets.tag import find_tag_numbers, format_tag
from sagicc_tui.tickets.thread_index import parse_thread_index

MODES = ("none", "customer", "subject", "thread")


@dataclass(frozen=True, slots=True)
class _Match:
    ticket: TicketRef
    link: Link
    reason: str


@dataclass(slots=True)
class _Context:
    """Everything the rules read about one message, computed once."""

    record: MessageRecord
    index: TicketIndex
    sender: str
    customer: str
    subject_key: str
    outbound: bool
    automatic: bool
    tag_prefix: str
    key: bytes | None
    # Weak links that were found but not taken, added to the final reason.
    notes: list[str] = field(default_factory=list)


def assign(
    record: MessageRecord,
    mode: str,
    index: TicketIndex,
    *,
    now: datetime,
    reopen_window_days: int = 14,
    tag_prefix: str = "",
    message_id_key: bytes | None = None,
    own_addresses: Collection[str] = frozenset(),
    blocked: Collection[str] = frozenset(),
) -> Assignment:
    """Decide which ticket of ``index``'s channel ``record`` belongs to.

    ``mode`` is ``none``, ``customer``, ``subject`` or ``thread``. ``now`` is
    compared with a closed ticket's ``closed_at`` for the reopen window.
    ``message_id_key`` verifies our signed Message-IDs; without it no id is
    trusted as ours. ``own_addresses`` are our sending addresses (mail from
    them is outbound). ``blocked`` contains addresses and domains (``example.com``
    or ``@example.com``); their mail is stored without a ticket.
    """
    mode = str(mode)
    if mode not in MODES:
        raise ValueError(
            f"invalid grouping mode {mode!r}: use one of {', '.join(MODES)}"
        )
    if reopen_window_days < 0:
        raise ValueError(
            f"invalid reopen window {reopen_window_days} days: use 0 or more"
        )

    own = frozenset(address.lower() for address in own_addresses)
    context = _make_context(record, index, own, tag_prefix, message_id_key)
    early = _duplicate_or_own_copy(context) or _blocked_or_loop(context, blocked)
    if early is not None:
        return early

    if mode == "none":
        return _new_ticket(context, "grouping 'none': every message opens a ticket")

    match = _find_match(context, mode)
    if match is None:
        return _new_ticket(context, _no_match_reason(context, mode))
    window = timedelta(days=reopen_window_days)
    return _join(context, match, now, window)


def _make_context(
    record: MessageRecord,
    index: TicketIndex,
    own: frozenset[str],
    tag_prefix: str,
    key: bytes | None,
) -> _Context:
    sender = record.from_addr.key if record.from_addr else ""
    signed = key is not None and verify_message_id(record.message_id, key) is not None
    # Anyone who received one of our replies can send a message under its
    # Message-ID. A signed id proves we minted the id, not that we sent this
    # message, so it counts as ours only from one of our addresses (or
    # when the caller names none).
    signed = signed and (not own or sender in own)
    outbound = signed or (bool(sender) and sender in own)
    customer = _first_recipient(record, own) if outbound else sender
    return _Context(
        record=record,
        index=index,
        sender=sender,
        customer=customer,
        subject_key=normalize_subject(record.subject, tag_prefix),
        outbound=outbound,
        automatic=record.kind in (MessageKind.AUTO_REPLY, MessageKind.BOUNCE),
        tag_prefix=tag_prefix,
        key=key,
    )


def _first_recipient(record: MessageRecord, own: frozenset[str]) -> str:
    for address in (*record.to, *record.cc):
        if address.key and address.key not in own:
            return address.key
    return ""


def _duplicate_or_own_copy(context: _Context) -> Assignment | None:
    """Catch a Message-ID stored already, and a copy of a message we signed."""
    message_id = context.record.message_id
    index = context.index
    if index.contains_message(message_id):
        ticket = index.ticket_of_message(message_id)
        where = f" in ticket #{ticket.number}" if ticket else " without a ticket"
        return Assignment(
            action=Action.DUPLICATE,
            ticket_id=ticket.id if ticket else None,
            reason=f"Message-ID <{message_id}> is already stored{where}",
            customer=context.customer,
            subject_key=context.subject_key,
        )

    if not context.outbound:
        return None
    number = _verified_number(context, message_id)
    ticket = index.ticket_by_number(number) if number is not None else None
    if ticket is None:
        return None

    # Our own message (a Cc or Sent-folder copy) never changes the status.
    return _assignment(
        context,
        Action.JOINED,
        _Match(
            ticket,
            Link.OWN_MESSAGE_ID,
            f"Message-ID <{message_id}> is our own, signed for ticket #{ticket.number}",
        ),
    )


def _blocked_or_loop(context: _Context, blocked: Collection[str]) -> Assignment | None:
    rule = _blocking_rule(context.sender, blocked)
    if rule is not None:
        reason = f"sender {context.sender} is blocked by '{rule}'"
    elif context.outbound and not context.customer:
        reason = (
            f"sent from our address {context.sender} to our own addresses only, "
            "so it is not ticketed to avoid a mail loop"
        )
    else:
        return None
    return Assignment(
        action=Action.NOT_TICKETED,
        ticket_id=None,
        reason=reason,
        link=Link.BLOCKED if rule is not None else Link.NONE,
        outbound=context.outbound,
        customer=context.customer,
        subject_key=context.subject_key,
    )


def _blocking_rule(sender: str, blocked: Collection[str]) -> str | None:
    """Return the blocked-senders entry that matches ``sender``, if any."""
    if not sender:
        return None
    domain = sender.rpartition("@")[2]
    for entry in blocked:
        rule = entry.strip().lower()
        if not rule:
            continue
        if "@" in rule.lstrip("@"):
            if rule == sender:
                return entry
        elif rule.lstrip("@") == domain:
            return entry
    return None


def _verified_number(context: _Context, message_id: str) -> int | None:
    if context.key is None:
        return None
    return verify_message_id(message_id, context.key)


def _find_match(context: _Context, mode: str) -> _Match | None:
    if mode == "thread":
        return _most_recent(_strong_matches(context)) or _weak_match(context)

    # Automatic mail joins the ticket of the message it replies to before the
    # sender rules run, because a bounce comes from a mailer daemon.
    if context.automatic:
        answered = _most_recent(_answered_matches(context))
        if answered is not None:
            return answered
    if not context.customer:
        return None

    subject_key = context.subject_key if mode == "subject" else None
    ticket = context.index.latest_customer_ticket(context.customer, subject_key)
    if ticket is None:
        return None
    if mode == "subject":
        reason = (
            f"same customer {context.customer} and subject "
            f"'{context.subject_key}' as ticket #{ticket.number}"
        )
        return _Match(ticket, Link.SUBJECT, reason)
    reason = f"same customer {context.customer} as ticket #{ticket.number}"
    return _Match(ticket, Link.CUSTOMER, reason)


def _most_recent(matches: list[_Match]) -> _Match | None:
    """Pick the most recently active ticket; on a tie the earlier rule wins."""
    best: _Match | None = None
    for match in matches:
        if best is None or match.ticket.last_activity > best.ticket.last_activity:
            best = match
    return best


def _lookup_id(
    context: _Context, message_id: str, link: Link, header: str
) -> _Match | None:
    """Find the ticket of a message this one names, stored or signed by us."""
    ticket = context.index.ticket_of_message(message_id)
    if ticket is not None:
        reason = f"{header} <{message_id}> matches a message in ticket #{ticket.number}"
        return _Match(ticket, link, reason)

    number = _verified_number(context, message_id)
    ticket = context.index.ticket_by_number(number) if number is not None else None
    if ticket is None:
        return None
    reason = f"{header} <{message_id}> is our signed Message-ID for ticket #{number}"
    return _Match(ticket, link, reason)


def _answered_matches(context: _Context) -> list[_Match]:
    """Matches through the ids a reply or bounce names, nearest parent first."""
    record = context.record
    named = [
        *(
            (mid, Link.RETURNED, "returned message")
            for mid in record.returned_message_ids
        ),
        *((mid, Link.IN_REPLY_TO, "In-Reply-To") for mid in record.in_reply_to),
        *((mid, Link.REFERENCES, "References") for mid in reversed(record.references)),
    ]
    matches = []
    seen: set[str] = set()
    for message_id, link, header in named:
        if message_id in seen:
            continue
        seen.add(message_id)
        match = _lookup_id(context, message_id, link, header)
        if match is not None:
            matches.append(match)
    return matches


def _strong_matches(context: _Context) -> list[_Match]:
    """Links that join whoever sends: headers, forwarded ids, Thread-Index."""
    matches = _answered_matches(context)
    for message_id in context.record.forwarded_message_ids:
        match = _lookup_id(context, message_id, Link.FORWARDED, "forwarded message")
        if match is not None:
            matches.append(match)

    for ticket in context.index.tickets_referencing(context.record.message_id):
        reason = (
            f"a message stored earlier in ticket #{ticket.number} replies to "
            f"<{context.record.message_id}>"
        )
        matches.append(_Match(ticket, Link.REPLIED_BY, reason))

    matches.extend(_thread_index_matches(context))
    return matches


def _thread_index_matches(context: _Context) -> list[_Match]:
    parsed = parse_thread_index(context.record.thread_index)
    if parsed is None:
        return []

    if parsed.depth > 0:
        tickets = context.index.tickets_with_thread_root(parsed.root)
        what = f"Thread-Index extends conversation {parsed.guid.hex()}"
    elif context.sender:
        # A reply always adds a child block, so a bare root is a link only
        # when its sender already used it: the same sender resending.
        tickets = context.index.tickets_with_thread_root(parsed.root, context.sender)
        what = (
            f"Thread-Index root {parsed.guid.hex()} was sent before by {context.sender}"
        )
    else:
        return []
    return [
        _Match(ticket, Link.THREAD_INDEX, f"{what} in ticket #{ticket.number}")
        for ticket in tickets
    ]


def _weak_match(context: _Context) -> _Match | None:
    """Links that count only when the sender is a participant of the ticket."""
    return _tag_match(context) or _subject_prefix_match(context)


def _is_participant(context: _Context, ticket: TicketRef) -> bool:
    return bool(context.sender) and context.sender in context.index.participants(
        ticket.id
    )


def _tag_match(context: _Context) -> _Match | None:
    matches = []
    for number in find_tag_numbers(context.record.subject, context.tag_prefix):
        ticket = context.index.ticket_by_number(number)
        if ticket is None:
            continue
        tag = format_tag(number, context.tag_prefix)
        if not _is_participant(context, ticket):
            context.notes.append(
                f"tag {tag} ignored because {context.sender or 'the sender'} "
                f"is not a participant of ticket #{number}"
            )
            continue
        reason = f"subject tag {tag} from participant {context.sender}"
        matches.append(_Match(ticket, Link.TAG, reason))
    return _most_recent(matches)


def _has_threading_headers(record: MessageRecord) -> bool:
    parsed = parse_thread_index(record.thread_index)
    has_thread_index = parsed is not None and parsed.depth > 0
    return bool(record.in_reply_to or record.references or has_thread_index)


def _subject_prefix_match(context: _Context) -> _Match | None:
    record = context.record
    if _has_threading_headers(record) or not context.subject_key:
        return None
    if not has_reply_prefix(record.subject, context.tag_prefix):
        return None

    for ticket in context.index.tickets_with_subject(context.subject_key):
        if _is_participant(context, ticket):
            reason = (
                f"no threading headers, reply prefix on subject "
                f"'{context.subject_key}' of ticket #{ticket.number} from "
                f"participant {context.sender}"
            )
            return _Match(ticket, Link.SUBJECT_PREFIX, reason)
    return None


def _no_match_reason(context: _Context, mode: str) -> str:
    if mode == "thread":
        reason = "no header, Thread-Index or tag links to a ticket: new ticket"
    elif mode == "subject":
        reason = (
            f"no ticket of {context.customer or 'this sender'} has subject "
            f"'{context.subject_key}': new ticket"
        )
    else:
        reason = f"no ticket of {context.customer or 'this sender'}: new ticket"
    return "; ".join([reason, *context.notes])


def _new_ticket(context: _Context, reason: str) -> Assignment:
    return Assignment(
        action=Action.OPENED,
        ticket_id=None,
        reason=reason,
        outbound=context.outbound,
        customer=context.customer,
        subject_key=context.subject_key,
    )


def _join(
    context: _Context, match: _Match, now: datetime, window: timedelta
) -> Assignment:
    """Join the matched ticket, reopening or linking when it is closed."""
    ticket = match.ticket
    if ticket.is_open:
        return _assignment(context, Action.JOINED, match)

    number = ticket.number
    if context.automatic or context.outbound:
        who = "automatic mail" if context.automatic else "our own message"
        reason = f"{match.reason}; ticket #{number} stays closed for {who}"
        return _assignment(context, Action.JOINED, match, reason=reason)

    closed_at = ticket.closed_at or ticket.last_activity
    days = (now - closed_at).days
    window_text = f"{window.days}-day reopen window"
    if now - closed_at <= window:
        reason = f"{match.reason}; closed {days} days ago, within the {window_text}"
        return _assignment(context, Action.REOPENED, match, reason=reason)

    reason = (
        f"{match.reason}; closed {days} days ago, outside the {window_text}: "
        f"new ticket linked to #{number}"
    )
    return Assignment(
        action=Action.OPENED_LINKED,
        ticket_id=None,
        reason=reason,
        link=match.link,
        linked_ticket_id=ticket.id,
        outbound=context.outbound,
        customer=context.customer,
        subject_key=context.subject_key,
    )


def _assignment(
    context: _Context, action: Action, match: _Match, *, reason: str | None = None
) -> Assignment:
    return Assignment(
        action=action,
        ticket_id=match.ticket.id,
        reason=reason or match.reason,
        link=match.link,
        outbound=context.outbound,
        customer=context.customer,
        subject_key=context.subject_key,
    )
