"""Generated mailboxes for scale tests, with their tickets known by construction.

Every generated thread has one customer and a subject no other thread uses,
and each follow-up answers the previous message (In-Reply-To, References,
``Re:`` subject). So, whatever a grouping engine does inside, the right
tickets are: one per message (``none``), one per thread (``thread`` and
``subject``) and one per customer (``customer``). Nothing in a generated
mailbox is closed, so reopen windows never matter.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from email.utils import format_datetime
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakemail.tomlcheck import Table

_PRODUCTS = ("router", "invoice", "subscription", "delivery", "password", "refund")
_FIRST_NAMES = ("Ana", "Björn", "Chloé", "Dmitri", "Eva", "François", "Greta", "Hugo")
_CHARSETS = ("utf-8", "iso-8859-1")


@dataclass(frozen=True)
class GeneratedMessage:
    name: str
    raw: bytes
    internaldate: datetime.datetime
    thread: int
    customer: int


@dataclass(frozen=True)
class GeneratorSpec:
    """A mailbox of ``count`` messages in threads of 1 to ``thread_size`` messages."""

    count: int
    seed: int = 1
    customers: int = 0
    thread_size: int = 5
    body_bytes: int = 1500
    prefix: str = "gen"
    start: datetime.datetime = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.UTC)

    @property
    def customer_count(self) -> int:
        return self.customers or max(1, self.count // 8)

    @cached_property
    def _plan(self) -> list[tuple[int, int, int, datetime.datetime]]:
        """(thread, position in thread, customer, date) of every message, by date."""
        rng = random.Random(self.seed)
        plan = []
        thread = 0
        while len(plan) < self.count:
            length = min(rng.randint(1, self.thread_size), self.count - len(plan))
            customer = rng.randrange(self.customer_count)
            when = self.start + datetime.timedelta(minutes=rng.randrange(60 * 24 * 60))
            for position in range(length):
                plan.append((thread, position, customer, when))
                when += datetime.timedelta(minutes=rng.randint(5, 60 * 48))
            thread += 1
        # Ties keep generation order, so a reply never sorts before its parent.
        plan.sort(key=lambda item: item[3])
        return plan

    def name(self, index: int) -> str:
        return f"{self.prefix}-{index + 1:05d}"

    def messages(self):
        """Yield every message in delivery (date) order."""
        for index, (thread, position, customer, when) in enumerate(self._plan):
            raw = self._build(thread, position, customer, when)
            yield GeneratedMessage(self.name(index), raw, when, thread, customer)

    def expected_tickets(self, mode: str) -> list[tuple[str, ...]]:
        """Return the tickets grouping ``mode`` must produce, as message names."""
        groups: dict[int, list[str]] = {}
        for index, (thread, _, customer, _) in enumerate(self._plan):
            if mode == "none":
                key = index
            elif mode == "customer":
                key = customer
            else:
                key = thread
            groups.setdefault(key, []).append(self.name(index))
        return [tuple(names) for names in groups.values()]

    def _build(
        self, thread: int, position: int, customer: int, when: datetime.datetime
    ) -> bytes:
        rng = random.Random(f"{self.seed}-{thread}-{position}")
        first = _FIRST_NAMES[customer % len(_FIRST_NAMES)]
        charset = _CHARSETS[thread % len(_CHARSETS)]
        product = _PRODUCTS[thread % len(_PRODUCTS)]
        subject = f"Question {thread} about my {product}"
        domain = f"seed{self.seed}.customers.example"
        message_id = f"<{self.prefix}-{thread}-{position}@{domain}>"
        headers = [
            f"From: {first} {customer} <customer{customer}@{domain}>",
            "To: support@example.test",
            f"Subject: {'Re: ' if position else ''}{subject}",
            f"Date: {format_datetime(when)}",
            f"Message-ID: {message_id}",
        ]
        if position:
            parents = [
                f"<{self.prefix}-{thread}-{p}@{domain}>" for p in range(position)
            ]
            headers.append(f"In-Reply-To: {parents[-1]}")
            headers.append(f"References: {' '.join(parents)}")
        headers += [
            "MIME-Version: 1.0",
            f"Content-Type: text/plain; charset={charset}",
            "Content-Transfer-Encoding: 8bit",
        ]
        words = ["Hello,", f"this is {first} about the {product}."]
        size = sum(len(word) + 1 for word in words)
        while size < self.body_bytes:
            words.append(rng.choice(("déjà", "please", "still", "broken", "merci")))
            size += len(words[-1]) + 1
        lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
        text = "\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n"
        return text.encode(charset, "replace")


def read_generator(table: Table) -> GeneratorSpec:
    """Read one ``[[folders.generate]]`` table."""
    defaults = GeneratorSpec(count=1)
    spec = GeneratorSpec(
        count=table.integer("count", minimum=1),
        seed=table.integer("seed", defaults.seed),
        customers=table.integer("customers", 0),
        thread_size=table.integer("thread_size", defaults.thread_size, minimum=1),
        body_bytes=table.integer("body_bytes", defaults.body_bytes),
        prefix=table.string("prefix", defaults.prefix),
        start=table.timestamp("start") or defaults.start,
    )
    table.finish()
    return spec
