"""Operator actions on tickets: open, close, reopen, split and merge, each audited."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from email.utils import parseaddr

from sagicc_tui.store.models import ChangeKind, Ticket, TicketStatus
from sagicc_tui.store.reads import (
    TICKET_COLUMNS,
    TICKET_FROM,
    ReadMixin,
    ticket_from_row,
)
from sagicc_tui.store.rows import (
    NewTicket,
    insert_ticket,
    record_change,
    recount_ticket,
)
from sagicc_tui.tickets.subject import normalize_subject


class TicketNotFoundError(LookupError):
    """No ticket or message with the given id exists."""


class TicketActionError(ValueError):
    """The action is invalid for this ticket now; the message explains why."""


class ActionMixin(ReadMixin):
    """Write API for consoles. ``who`` names the operator for the audit log."""

    def _load_ticket(self, conn: sqlite3.Connection, ticket_id: int) -> Ticket:
        row = conn.execute(
            f"SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE t.id = ?", (ticket_id,)
        ).fetchone()
        if row is None:
            raise TicketNotFoundError(f"ticket id {ticket_id} does not exist")
        ticket = ticket_from_row(row)
        if ticket.merged_into_id is not None:
            target = conn.execute(
                "SELECT number FROM tickets WHERE id = ?", (ticket.merged_into_id,)
            ).fetchone()
            raise TicketActionError(
                f"ticket #{ticket.number} was merged into #{target[0]}: "
                f"act on #{target[0]} instead"
            )
        return ticket

    def _set_status(
        self, ticket_id: int, status: TicketStatus, who: str, now: datetime | None
    ) -> Ticket:
        at = self._now(now)
        with self._write() as conn:
            ticket = self._load_ticket(conn, ticket_id)
            if ticket.status == status:
                return ticket
            closed_at = at if status == TicketStatus.CLOSED else None
            conn.execute(
                "UPDATE tickets SET status = ?, closed_at = ? WHERE id = ?",
                (str(status), closed_at, ticket_id),
            )
            action = "close" if status == TicketStatus.CLOSED else "reopen"
            self._record_event(conn, at, who, action, ticket_id=ticket_id)
            channel_id = self._find_channel(ticket.channel)
            record_change(conn, ChangeKind.TICKET_UPDATED, at, channel_id, ticket_id)
            return self._load_ticket(conn, ticket_id)

    def close_ticket(
        self, ticket_id: int, who: str, *, now: datetime | None = None
    ) -> Ticket:
        """Close a ticket; closing a closed ticket changes nothing and logs nothing."""
        return self._set_status(ticket_id, TicketStatus.CLOSED, who, now)

    def reopen_ticket(
        self, ticket_id: int, who: str, *, now: datetime | None = None
    ) -> Ticket:
        """Reopen a closed ticket; an open ticket is returned unchanged."""
        return self._set_status(ticket_id, TicketStatus.OPEN, who, now)

    def open_ticket(
        self,
        channel: str,
        *,
        customer_addr: str,
        subject: str,
        who: str,
        customer_name: str = "",
        tag_prefix: str = "",
        now: datetime | None = None,
    ) -> Ticket:
        """Open an empty ticket for a conversation an operator starts.

        The console opens the ticket first, so the new message can carry
        its tag and a Message-ID signed for its number, then queues the
        message with ``queue_outgoing``.
        """
        if "@" not in customer_addr:
            raise ValueError(
                f"invalid customer address {customer_addr!r}: give an address "
                "such as name@example.com"
            )
        channel_id = self.ensure_channel(channel)
        at = self._now(now)
        with self._write() as conn:
            ticket_id, _number = insert_ticket(
                conn,
                NewTicket(
                    channel_id=channel_id,
                    customer_addr=customer_addr.strip().lower(),
                    customer_name=customer_name,
                    subject=subject,
                    normalized_subject=normalize_subject(subject, tag_prefix),
                    at=at,
                    tag_prefix=tag_prefix,
                ),
            )
            self._record_event(conn, at, who, "open", ticket_id=ticket_id)
            return self._load_ticket(conn, ticket_id)

    def split_message(
        self,
        message_row_id: int,
        who: str,
        *,
        tag_prefix: str = "",
        now: datetime | None = None,
    ) -> Ticket:
        """Move one message into a new open ticket, linked to the one it left.

        Later replies to that message follow it, because grouping looks
        tickets up through the messages they hold.
        """
        at = self._now(now)
        with self._write() as conn:
            row = conn.execute(
                "SELECT ticket_id, channel_id, direction, from_addr, from_name,"
                " to_addrs, subject FROM messages WHERE id = ?",
                (message_row_id,),
            ).fetchone()
            if row is None:
                raise TicketNotFoundError(f"message id {message_row_id} does not exist")
            old_ticket_id, channel_id, direction, from_addr, from_name, to, subject = (
                row
            )
            customer_name, customer_addr = from_name, from_addr
            if direction == "out" and json.loads(to):
                # Our own message: the customer is whom it was sent to.
                customer_name, customer_addr = parseaddr(json.loads(to)[0])
            if old_ticket_id is not None:
                old = self._load_ticket(conn, old_ticket_id)
                if old.message_count <= 1:
                    raise TicketActionError(
                        f"message {message_row_id} is the only message of ticket "
                        f"#{old.number}: there is nothing to split off"
                    )

            new_id, _number = insert_ticket(
                conn,
                NewTicket(
                    channel_id=channel_id,
                    customer_addr=customer_addr.lower(),
                    customer_name=customer_name,
                    subject=subject,
                    normalized_subject=normalize_subject(subject, tag_prefix),
                    at=at,
                    tag_prefix=tag_prefix,
                    linked_ticket_id=old_ticket_id,
                    changed_at=at,
                ),
            )
            conn.execute(
                "UPDATE messages SET ticket_id = ? WHERE id = ?",
                (new_id, message_row_id),
            )
            conn.execute(
                "UPDATE outbox SET ticket_id = ? WHERE message_row_id = ?",
                (new_id, message_row_id),
            )
            recount_ticket(conn, new_id)
            # The new ticket was created now, but its activity is the message's.
            conn.execute(
                "UPDATE tickets SET created_at = min(created_at, last_activity)"
                " WHERE id = ?",
                (new_id,),
            )
            if old_ticket_id is not None:
                recount_ticket(conn, old_ticket_id)
                record_change(
                    conn, ChangeKind.TICKET_UPDATED, at, channel_id, old_ticket_id
                )

            self._record_event(
                conn,
                at,
                who,
                "split",
                ticket_id=old_ticket_id,
                other_ticket_id=new_id,
                message_row_id=message_row_id,
            )
            return self._load_ticket(conn, new_id)

    def merge_tickets(
        self, source_id: int, target_id: int, who: str, *, now: datetime | None = None
    ) -> Ticket:
        """Move every message of ``source_id`` into ``target_id`` and return the target.

        The source stays as a closed ticket pointing at the target, so its
        number still resolves; the feed hides it. The target keeps its
        status. Both tickets must belong to the same channel.
        """
        if source_id == target_id:
            raise TicketActionError(
                f"ticket id {source_id} cannot be merged into itself"
            )
        at = self._now(now)
        with self._write() as conn:
            source = self._load_ticket(conn, source_id)
            target = self._load_ticket(conn, target_id)
            if source.channel != target.channel:
                raise TicketActionError(
                    f"ticket #{source.number} is on channel {source.channel!r} and "
                    f"#{target.number} on {target.channel!r}: only tickets of one "
                    "channel can be merged"
                )

            conn.execute(
                "UPDATE messages SET ticket_id = ? WHERE ticket_id = ?",
                (target_id, source_id),
            )
            conn.execute(
                "UPDATE outbox SET ticket_id = ? WHERE ticket_id = ?",
                (target_id, source_id),
            )
            # Tickets merged into the source earlier now point at the target.
            conn.execute(
                "UPDATE tickets SET merged_into_id = ? WHERE merged_into_id = ?",
                (target_id, source_id),
            )
            conn.execute(
                "UPDATE tickets SET merged_into_id = ?, status = 'closed',"
                " closed_at = coalesce(closed_at, ?) WHERE id = ?",
                (target_id, at, source_id),
            )
            recount_ticket(conn, target_id)
            recount_ticket(conn, source_id)

            self._record_event(
                conn,
                at,
                who,
                "merge",
                ticket_id=source_id,
                other_ticket_id=target_id,
                detail=f"#{source.number} into #{target.number}",
            )
            channel_id = self._find_channel(target.channel)
            record_change(conn, ChangeKind.TICKET_UPDATED, at, channel_id, source_id)
            record_change(conn, ChangeKind.TICKET_UPDATED, at, channel_id, target_id)
            return self._load_ticket(conn, target_id)
