"""Header parsing of fetched batches, in worker processes when the batch is large."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING

from sagicc_tui.mail.parse import parse_message
from sagicc_tui.mail.record import MessageRecord

if TYPE_CHECKING:
    # Workers import this module; they need neither the store nor SQLite.
    from sagicc_tui.store import IngestItem

# Below this many messages a batch is parsed in the store's thread: sending
# the bytes to another process costs more than it saves.
PROCESS_MIN_BATCH = 40

# (raw, channel encoding, arrival, max size, full size when raw is a header)
ParseJob = tuple[bytes, str, datetime | None, int | None, int | None]


def warm_up() -> None:
    """Do nothing; submitting it makes a new worker import this module early."""


def parse_jobs(jobs: list[ParseJob]) -> list[MessageRecord]:
    """Parse headers of each job; a plain function so a process pool can run it.

    The records come back without ``raw`` to halve what crosses the process
    boundary; the caller puts the bytes back.
    """
    records = []
    for raw, encoding, arrival, max_size, size in jobs:
        record = parse_message(
            raw,
            encoding=encoding,
            arrival=arrival,
            max_size=max_size,
            with_body=False,
            size=size,
        )
        record.raw = b""
        records.append(record)
    return records


async def attach_records(
    items: list[IngestItem],
    header_only: set[int],
    *,
    encoding: str,
    max_size: int | None,
    sizes: dict[int, int],
    executor: Executor | None,
) -> None:
    """Parse items in ``executor`` (or here for header-only ones) and set ``record``.

    Header-only items (over the size limit) are always parsed here, because
    ingest would not know the full size and would miss the oversize flag.
    """
    jobs: list[tuple[IngestItem, ParseJob]] = []
    for item in items:
        oversize = item.uid in header_only
        if not oversize and (executor is None or len(items) < PROCESS_MIN_BATCH):
            continue
        size = sizes.get(item.uid or -1) if oversize else None
        jobs.append((item, (item.raw, encoding, item.internaldate, max_size, size)))
    if not jobs:
        return

    payload = [job for _, job in jobs]
    if executor is not None and len(jobs) >= PROCESS_MIN_BATCH:
        records = await _parse_in(executor, payload)
    else:
        records = parse_jobs(payload)
    for (item, _), record in zip(jobs, records, strict=True):
        record.raw = item.raw
        item.record = record


async def _parse_in(executor: Executor, payload: list[ParseJob]) -> list[MessageRecord]:
    """Split the jobs over the executor's workers and parse them in parallel."""
    # ProcessPoolExecutor has no public worker count; one chunk per worker.
    workers = max(1, int(getattr(executor, "_max_workers", 1)))
    size = -(-len(payload) // workers)
    loop = asyncio.get_running_loop()
    chunks = [payload[start : start + size] for start in range(0, len(payload), size)]
    parsed = await asyncio.gather(
        *(loop.run_in_executor(executor, parse_jobs, chunk) for chunk in chunks)
    )
    return [record for chunk in parsed for record in chunk]
