"""Messages accepted by fakemail's SMTP listeners, in memory and on disk."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class OutboxRecord:
    """One accepted message with its SMTP envelope.

    ``received_at`` is Unix time and ``scenario_time`` the scenario clock's
    seconds when the final ``.`` of DATA arrived.
    """

    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    received_at: float
    scenario_time: float
    authenticated_user: str | None
    listener: str
    tls: bool

    def message(self) -> EmailMessage:
        """Parse ``raw`` into an email message (headers decoded, nothing lost)."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header(self, name: str) -> str | None:
        """Return the decoded value of header ``name``, or None when it is absent."""
        value = self.message()[name]
        return None if value is None else str(value)

    def summary(self) -> dict[str, Any]:
        """Return the envelope and main headers as JSON-ready data, without the body."""
        return {
            "id": self.id,
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "received_at": self.received_at,
            "scenario_time": self.scenario_time,
            "authenticated_user": self.authenticated_user,
            "listener": self.listener,
            "tls": self.tls,
            "size": len(self.raw),
            "subject": self.header("Subject"),
            "message_id": self.header("Message-ID"),
            "in_reply_to": self.header("In-Reply-To"),
            "references": self.header("References"),
        }


class Outbox:
    """The list of accepted messages, mirrored to ``directory`` when one is given.

    On disk each record is ``<id>.eml`` (the raw bytes) plus ``<id>.json`` (the
    summary). The JSON file is written last and by rename, so a reader in
    another process never sees a record whose message is incomplete.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._records: list[OutboxRecord] = []
        self._listeners: list[Callable[[OutboxRecord], None]] = []
        self._changed = asyncio.Event()
        self._next_number = 1
        if directory is not None:
            # A state folder reused by a new run keeps the old records, so
            # numbering goes on after them instead of overwriting them.
            numbers = [
                int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit()
            ]
            self._next_number = max(numbers, default=0) + 1

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[OutboxRecord]:
        """Return every record in the order the messages were accepted."""
        return list(self._records)

    def get(self, record_id: str) -> OutboxRecord:
        """Return the record ``record_id``; raise KeyError when there is none."""
        for record in self._records:
            if record.id == record_id:
                return record
        raise KeyError(f"no outbox message with id {record_id!r}")

    def add(self, **fields: Any) -> OutboxRecord:
        """Store a new record built from ``fields`` (all but ``id``) and notify."""
        record = OutboxRecord(id=f"{self._next_number:06d}", **fields)
        self._next_number += 1
        self._records.append(record)
        if self.directory is not None:
            _write_record(self.directory, record)
        for listener in list(self._listeners):
            listener(record)
        self._changed.set()
        return record

    def subscribe(self, listener: Callable[[OutboxRecord], None]) -> None:
        """Call ``listener`` with every record added from now on."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[OutboxRecord], None]) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def clear(self) -> None:
        """Forget every record, in memory and on disk (``FakeMail.reset`` does)."""
        self._records.clear()
        self._next_number = 1
        if self.directory is not None:
            for path in self.directory.glob("*.json"):
                path.unlink()
            for path in self.directory.glob("*.eml"):
                path.unlink()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[OutboxRecord]:
        """Wait for ``count`` records; raise TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while len(self._records) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.records()

    @classmethod
    def load(cls, directory: Path) -> list[OutboxRecord]:
        """Read the records another process wrote to ``directory``, oldest first."""
        records = []
        for summary_path in sorted(directory.glob("*.json")):
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            raw = summary_path.with_suffix(".eml").read_bytes()
            records.append(
                OutboxRecord(
                    id=summary["id"],
                    mail_from=summary["mail_from"],
                    rcpt_tos=tuple(summary["rcpt_tos"]),
                    raw=raw,
                    received_at=summary["received_at"],
                    scenario_time=summary["scenario_time"],
                    authenticated_user=summary["authenticated_user"],
                    listener=summary["listener"],
                    tls=summary["tls"],
                )
            )
        return records


def _write_record(directory: Path, record: OutboxRecord) -> None:
    _write_private(directory / f"{record.id}.eml", record.raw)
    summary = json.dumps(record.summary(), indent=2, ensure_ascii=False)
    _write_private(directory / f"{record.id}.json", summary.encode("utf-8"))


def _write_private(path: Path, data: bytes) -> None:
    # Outgoing mail may hold customers' data: owner-only, and renamed into
    # place so readers never see half a file.
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.replace(temporary, path)
