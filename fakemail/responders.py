"""Responders: simulated customers who answer recorded outgoing mail.

A responder watches the outbox. When a message matches its rule it waits
its delay on the scenario clock, fills its .eml template with the headers
of a real answer and delivers the result to a folder, where the product
under test picks it up like any customer mail.
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import fnmatch
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from fakemail.clock import Clock
from fakemail.outbox import Outbox, OutboxRecord
from fakemail.scenario import ResponderSpec

log = logging.getLogger(__name__)

# Called with (answer name, account, folder, raw message) to deliver an answer.
Deliver = Callable[[str, str, str, bytes], None]


@dataclass(frozen=True)
class Answer:
    """An answer a responder delivered: its name and the record it answers."""

    name: str
    responder: str
    record_id: str
    message_id: str
    scenario_time: float


def answer_subject(subject: str, prefix: str = "Re: ") -> str:
    """Return ``prefix`` + ``subject``, without stacking a second ``Re:``."""
    if prefix.strip().lower() == "re:" and re.match(r"\s*re\s*:", subject, re.I):
        return subject
    return f"{prefix}{subject}"


def build_answer(
    record: OutboxRecord,
    template: bytes,
    *,
    customer: str,
    message_id: str,
    date: datetime.datetime,
    subject_prefix: str = "Re: ",
) -> bytes:
    """Fill ``template`` as ``customer``'s answer to the outgoing ``record``.

    Subject, In-Reply-To, References, From, To, Date and Message-ID come from
    the answered message and the arguments; every other template header and
    the body are kept as written.
    """
    original = record.message()
    answer = email.message_from_bytes(template, policy=email.policy.SMTP)
    assert isinstance(answer, EmailMessage)

    original_id = str(original["Message-ID"] or "").strip()
    references = str(original["References"] or "").split()
    if original_id:
        references.append(original_id)
    reply_to = original["Reply-To"] or original["From"] or record.mail_from

    replacements = {
        "From": _customer_address(original, customer),
        "To": str(reply_to),
        "Subject": answer_subject(str(original["Subject"] or ""), subject_prefix),
        "Date": format_datetime(date),
        "Message-ID": message_id,
        "In-Reply-To": original_id or None,
        "References": " ".join(references) or None,
    }
    for header, value in replacements.items():
        del answer[header]
        if value is not None:
            answer[header] = value
    return answer.as_bytes()


def _customer_address(original: EmailMessage, customer: str) -> str:
    """Return the To/Cc entry of ``customer`` with its display name, if any."""
    entries = getaddresses([str(v) for v in original.get_all("To", [])])
    entries += getaddresses([str(v) for v in original.get_all("Cc", [])])
    for display_name, address in entries:
        if address.casefold() == customer.casefold() and display_name:
            return email.utils.formataddr((display_name, address))
    return customer


class Responders:
    """Every responder of a scenario, answering the outbox on a clock."""

    def __init__(
        self,
        specs: tuple[ResponderSpec, ...],
        outbox: Outbox,
        clock: Clock,
        deliver: Deliver,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.outbox = outbox
        self.clock = clock
        self.deliver = deliver
        self.answers: list[Answer] = []
        self._matches: dict[str, int] = {name: 0 for name in self.specs}
        self._fired: dict[str, int] = {name: 0 for name in self.specs}
        self._tasks: set[asyncio.Task[None]] = set()
        outbox.subscribe(self._on_record)

    def reset(self) -> None:
        """Cancel pending answers and forget what was matched."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self.answers.clear()
        self._matches = {name: 0 for name in self.specs}
        self._fired = {name: 0 for name in self.specs}

    async def stop(self) -> None:
        """Stop watching the outbox and cancel pending answers."""
        self.outbox.unsubscribe(self._on_record)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def matching_recipient(
        self, spec: ResponderSpec, record: OutboxRecord
    ) -> str | None:
        """Return the recipient ``spec`` answers as, or None when it does not match."""
        if spec.subject is not None:
            subject = record.header("Subject") or ""
            if re.search(spec.subject, subject) is None:
                return None
        for recipient in record.rcpt_tos:
            pattern = (spec.recipient or "*").casefold()
            if fnmatch.fnmatchcase(recipient.casefold(), pattern):
                return recipient
        return None

    def fire(self, name: str) -> bool:
        """Answer now the latest recorded message ``name`` matches; False if none."""
        spec = self.specs[name]
        for record in reversed(self.outbox.records()):
            customer = self.matching_recipient(spec, record)
            if customer is not None:
                self._answer(spec, record, customer)
                return True
        log.warning("responder %s fired but no outgoing message matches it", name)
        return False

    def _on_record(self, record: OutboxRecord) -> None:
        for spec in self.specs.values():
            customer = self.matching_recipient(spec, record)
            if customer is None:
                continue
            self._matches[spec.name] += 1
            if spec.ordinal is not None and self._matches[spec.name] != spec.ordinal:
                continue
            task = asyncio.get_running_loop().create_task(
                self._answer_later(spec, record, customer)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer_later(
        self, spec: ResponderSpec, record: OutboxRecord, customer: str
    ) -> None:
        await self.clock.sleep(spec.delay)
        self._answer(spec, record, customer)

    def _answer(self, spec: ResponderSpec, record: OutboxRecord, customer: str) -> None:
        self._fired[spec.name] += 1
        count = self._fired[spec.name]
        name = spec.answer if count == 1 else f"{spec.answer}-{count}"
        domain = customer.rpartition("@")[2] or "fakemail.invalid"
        message_id = f"<{name}.{record.id}@{domain}>"
        date = datetime.datetime.fromtimestamp(self.clock.wall_time(), datetime.UTC)
        raw = build_answer(
            record,
            spec.template.read_bytes(),
            customer=customer,
            message_id=message_id,
            date=date,
            subject_prefix=spec.subject_prefix,
        )
        self.deliver(name, spec.account, spec.folder, raw)
        self.answers.append(
            Answer(name, spec.name, record.id, message_id, self.clock.now())
        )
        log.info("responder %s answered %s as %s", spec.name, record.id, name)
