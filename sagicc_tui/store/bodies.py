"""The background pass: parse bodies of stored messages and index them for search."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import Executor

from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord, RecordFlag
from sagicc_tui.store.base import StoreBase

# Raw bytes one body pass loads at most (plus one message), to bound memory
# when many large messages wait.
MAX_BATCH_BYTES = 64 * 2**20

# Chunks one pass splits its jobs into for an executor: enough to keep a
# few workers busy, few enough that each round trip carries many messages.
CHUNKS_PER_PASS = 8

# (raw, encoding, skip body) -> (body text, attachments as dicts)
BodyJob = tuple[bytes, str, bool]
BodyResult = tuple[str, list[dict[str, object]]]


def parse_body_job(job: BodyJob) -> BodyResult:
    """Parse one message body; a plain function so a process pool can run it."""
    raw, encoding, skip = job
    if skip:
        return "", []
    record: MessageRecord = parse_message(raw, encoding=encoding, with_body=True)
    attachments = [dataclasses.asdict(part) for part in record.attachments]
    return record.body_text, attachments


def index_pending_bodies(
    store: StoreBase, limit: int = 500, *, executor: Executor | None = None
) -> int:
    """Parse and index up to ``limit`` messages whose body is not indexed yet.

    Returns how many were indexed; 0 means nothing is pending. Parsing runs
    outside the write lock (in ``executor`` when given, e.g. a process
    pool), then one short transaction writes the results. Oversize and
    unparseable messages are indexed with their subject and sender only.
    """
    pending = _pending(store, limit)
    if not pending:
        return 0

    jobs: list[BodyJob] = [
        (raw, encoding, skip) for _row, raw, encoding, skip, _s, _c in pending
    ]
    if executor is None:
        parsed = [parse_body_job(job) for job in jobs]
    else:
        # A process pool pays a round trip per task, so send a few large
        # chunks; thread pools ignore chunksize.
        chunk = max(1, len(jobs) // CHUNKS_PER_PASS)
        parsed = list(executor.map(parse_body_job, jobs, chunksize=chunk))

    with store.write_transaction() as conn:
        for (row_id, _raw, _enc, _skip, subject, customer), (body, attachments) in zip(
            pending, parsed, strict=True
        ):
            updated = conn.execute(
                "UPDATE messages SET body_text = ?, attachments = ?, body_indexed = 1"
                " WHERE id = ? AND body_indexed = 0",
                (body, json.dumps(attachments), row_id),
            ).rowcount
            # Another pass may have indexed this row meanwhile; never index twice.
            if updated:
                conn.execute(
                    "INSERT INTO message_search (rowid, subject, customer, body)"
                    " VALUES (?, ?, ?, ?)",
                    (row_id, subject, customer, body),
                )
    return len(pending)


def _pending(
    store: StoreBase, limit: int
) -> list[tuple[int, bytes, str, bool, str, str]]:
    """Load up to ``limit`` pending messages, stopping early past MAX_BATCH_BYTES."""
    skip_flags = {str(RecordFlag.OVERSIZE), str(RecordFlag.UNPARSEABLE)}
    pending = []
    total = 0
    with store._read() as conn:
        rows = conn.execute(
            "SELECT m.id, r.raw, c.encoding, m.flags, m.subject,"
            " trim(m.from_name || ' ' || m.from_addr)"
            " FROM messages m JOIN message_raw r ON r.message_row_id = m.id"
            " JOIN channels c ON c.id = m.channel_id"
            " WHERE m.body_indexed = 0 ORDER BY m.id LIMIT ?",
            (limit,),
        )
        # Rows arrive one by one, so a run of large messages stops the batch
        # before it is all in memory.
        for row_id, raw, encoding, flags, subject, customer in rows:
            skip = bool(skip_flags & set(flags.split(",")))
            pending.append((row_id, bytes(raw), encoding, skip, subject, customer))
            total += len(raw)
            if total >= MAX_BATCH_BYTES:
                break
    return pending


def pending_body_count(store: StoreBase) -> int:
    """Return how many stored messages still wait for the body pass."""
    with store._read() as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM messages WHERE body_indexed = 0"
            ).fetchone()[0]
        )
