"""Benchmark of the mail core: a generated mailbox through parse, grouping, store.

Run: ``.venv/bin/python bench/core_bench.py`` (options: ``--help``).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sagicc_tui.mail.record import MessageRecord  # noqa: E402
from sagicc_tui.store import IngestItem, TicketFilter, TicketStore  # noqa: E402
from sagicc_tui.store.bodies import (  # noqa: E402
    index_pending_bodies,
    pending_body_count,
)
from sagicc_tui.store.ingest import (  # noqa: E402
    IngestCursor,
    IngestParams,
    ingest,
    parse_headers,
)

# Subjects and bodies per charset, so every decoder path runs.
CHARSET_TEXT = {
    "utf-8": (
        "Bestellung Nr. {n} – Lieferung fehlt",
        "Grüße, die Lieferung {n} fehlt noch.",
    ),
    "iso-8859-1": (
        "Commande {n} : colis abîmé",
        "Le colis {n} est arrivé abîmé, merci.",
    ),
    "shift_jis": (
        "注文 {n} の配送について",
        "注文番号 {n} の商品がまだ届いていません。",
    ),
    "gb2312": ("订单 {n} 发票问题", "您好，订单 {n} 的发票有误，请重新开具。"),
    "koi8-r": (
        "Заказ {n}: возврат товара",
        "Здравствуйте, прошу оформить возврат заказа {n}.",
    ),
}
CHARSETS = list(CHARSET_TEXT)
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SUPPORT = "Support <help@shop.example>"


@dataclass(slots=True)
class Thread:
    number: int
    customer: str
    charset: str
    subject: str
    ids: list[str]


def _encoded_subject(text: str, charset: str) -> str:
    return Header(text, charset).encode()


def _body_part(text: str, charset: str, rng: random.Random) -> tuple[str, bytes]:
    """Return (Content-Transfer-Encoding, encoded body) for a text part."""
    paragraph = (text + "\n") * rng.randint(3, 30)
    data = paragraph.encode(charset)
    if charset in ("utf-8", "iso-8859-1") and rng.random() < 0.5:
        return "8bit", data.replace(b"\n", b"\r\n")
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return "base64", encoded


def _attachment(rng: random.Random, index: int) -> bytes:
    payload = rng.randbytes(rng.randint(4_000, 40_000))
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return (
        b"Content-Type: application/pdf\r\n"
        + f'Content-Disposition: attachment; filename="bill-{index}.pdf"\r\n'.encode()
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
    )


def build_message(
    rng: random.Random, index: int, thread: Thread, kind: str, parent: bytes | None
) -> bytes:
    """Build one message of ``thread``: ``new``, ``reply``, ``ours`` or ``forward``."""
    domain = "shop.example" if kind == "ours" else "mail.example"
    message_id = f"m{index}.{thread.number}@{domain}"
    date = format_datetime(START + timedelta(minutes=index * 3))
    subject_text = (
        thread.subject
        if kind == "new"
        else (
            f"Fwd: {thread.subject}" if kind == "forward" else f"Re: {thread.subject}"
        )
    )
    sender, to = (
        (SUPPORT, thread.customer) if kind == "ours" else (thread.customer, SUPPORT)
    )
    headers = [
        f"Message-ID: <{message_id}>",
        f"Date: {date}",
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {_encoded_subject(subject_text, thread.charset)}",
        "MIME-Version: 1.0",
    ]
    if kind in ("reply", "ours") and thread.ids:
        headers.append(f"In-Reply-To: <{thread.ids[-1]}>")
        headers.append("References: " + " ".join(f"<{i}>" for i in thread.ids[-10:]))
    thread.ids.append(message_id)

    _subject, body_text = CHARSET_TEXT[thread.charset]
    cte, body = _body_part(body_text.format(n=thread.number), thread.charset, rng)
    text_part = (
        f'Content-Type: text/plain; charset="{thread.charset}"\r\n'
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    ).encode() + body

    parts = [text_part]
    if kind == "forward" and parent is not None:
        parts.append(b"Content-Type: message/rfc822\r\n\r\n" + parent)
    if rng.random() < 0.2:
        parts.append(_attachment(rng, index))

    head = "\r\n".join(headers).encode()
    if len(parts) == 1:
        return head + b"\r\n" + text_part
    boundary = f"=_part_{index}".encode()
    out = [
        head,
        b'\r\nContent-Type: multipart/mixed; boundary="',
        boundary,
        b'"\r\n\r\n',
    ]
    for part in parts:
        out += [b"--", boundary, b"\r\n", part, b"\r\n"]
    out += [b"--", boundary, b"--\r\n"]
    return b"".join(out)


def generate_mailbox(count: int, seed: int = 7) -> Iterator[bytes]:
    """Yield ``count`` messages: threads, replies both ways, forwards, attachments."""
    rng = random.Random(seed)
    threads: list[Thread] = []
    last: dict[int, bytes] = {}
    for index in range(count):
        if not threads or rng.random() < 0.35:
            number = len(threads) + 1
            charset = CHARSETS[number % len(CHARSETS)]
            subject = CHARSET_TEXT[charset][0].format(n=number)
            customer = (
                f"Customer {number} <c{number}@example.{charset.replace('_', '-')}>"
            )
            thread = Thread(number, customer, charset, subject, [])
            threads.append(thread)
            kind = "new"
        else:
            # Recent threads get most of the traffic, as in a real inbox.
            thread = threads[max(0, len(threads) - 1 - int(rng.expovariate(0.05)))]
            kind = rng.choices(["reply", "ours", "forward"], [0.55, 0.4, 0.05])[0]
        raw = build_message(rng, index, thread, kind, last.get(thread.number))
        last[thread.number] = raw
        yield raw


def write_mailbox(path: Path, count: int) -> list[tuple[int, int]]:
    """Write the generated messages to ``path``; return (offset, length) of each."""
    spans = []
    offset = 0
    with path.open("wb") as out:
        for raw in generate_mailbox(count):
            out.write(raw)
            spans.append((offset, len(raw)))
            offset += len(raw)
    return spans


def read_batches(
    path: Path, spans: list[tuple[int, int]], size: int
) -> Iterator[list[IngestItem]]:
    """Read the mailbox back in batches, as an IMAP fetch of ``size`` UIDs would."""
    with path.open("rb") as source:
        for start in range(0, len(spans), size):
            batch = []
            for uid, (offset, length) in enumerate(
                spans[start : start + size], start + 1
            ):
                source.seek(offset)
                batch.append(IngestItem(raw=source.read(length), uid=uid))
            yield batch


def rss_mib() -> tuple[float, float]:
    """Return (current, peak) resident memory of this process in MiB (Linux).

    Worker processes are not counted. Each keeps at most a few batches.
    """
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[1]) * page / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, max(current, peak)


def parsed_batches(
    batches: Iterator[list[IngestItem]], workers: int, params: IngestParams
) -> Iterator[list[IngestItem]]:
    """Yield batches with headers parsed in ``workers`` processes (0: unparsed).

    At most two batches per worker are in flight, so memory stays bounded
    however large the mailbox is.
    """
    if workers == 0:
        yield from batches
        return
    with ProcessPoolExecutor(workers) as pool:
        pending: deque[tuple[list[IngestItem], Future[list[MessageRecord]]]] = deque()
        for batch in batches:
            future = pool.submit(
                parse_headers, batch, params.encoding, params.max_message_size
            )
            pending.append((batch, future))
            if len(pending) > 2 * workers:
                yield with_records(*pending.popleft())
        while pending:
            yield with_records(*pending.popleft())


def with_records(
    batch: list[IngestItem], future: Future[list[MessageRecord]]
) -> list[IngestItem]:
    for item, record in zip(batch, future.result(), strict=True):
        item.record = record
    return batch


def run_ingest(
    store: TicketStore,
    path: Path,
    spans: list[tuple[int, int]],
    args: argparse.Namespace,
) -> tuple[float, float]:
    """Ingest the whole mailbox; return (wall, this process's CPU) seconds."""
    params = IngestParams(channel="support", grouping=args.grouping, folder="INBOX")
    checkpoints = sorted({len(spans) * share // 4 for share in (1, 2, 4)})
    done = 0
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    batches = read_batches(path, spans, args.batch)
    for batch in parsed_batches(batches, args.parse_workers, params):
        cursor = IngestCursor("INBOX", 1, batch[-1].uid or 0)
        ingest(store, params, batch, cursor=cursor)
        done += len(batch)
        while checkpoints and done >= checkpoints[0]:
            checkpoints.pop(0)
            elapsed = time.perf_counter() - started
            current, peak = rss_mib()
            print(
                f"  {done:>6} stored: {done / elapsed:6.0f} msg/s so far, "
                f"RSS {current:6.1f} MiB, peak so far {peak:6.1f} MiB" + traced_memory()
            )
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    tracemalloc.stop()
    return wall, cpu


def traced_memory() -> str:
    """Describe the Python heap since the last checkpoint, when tracemalloc runs."""
    if not tracemalloc.is_tracing():
        return ""
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    return f", Python heap {current / 2**20:5.1f} MiB (peak {peak / 2**20:5.1f} MiB)"


def run_bodies(store: TicketStore, workers: int) -> float:
    started = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            while index_pending_bodies(store, 2_000, executor=pool):
                pass
    else:
        while index_pending_bodies(store, 500):
            pass
    return time.perf_counter() - started


def parse_where(workers: int) -> str:
    if workers == 0:
        return "parsing"
    return f"parsing in {workers} process{'es' if workers > 1 else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000, help="mailbox size")
    parser.add_argument(
        "--batch", type=int, default=200, help="messages per transaction"
    )
    parser.add_argument(
        "--grouping",
        default="thread",
        choices=("none", "customer", "subject", "thread"),
    )
    parser.add_argument(
        "--parse-workers",
        type=int,
        default=1,
        help="processes that parse headers while this one groups and stores "
        "(0: parse in this process)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for the body pass (1: in this process)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also print the Python heap at each checkpoint (slows ingest)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sagicc-core-bench-") as folder:
        path = Path(folder) / "mailbox.raw"
        # Generate in a child process so its memory does not hide or inflate
        # what ingest uses here.
        with ProcessPoolExecutor(1) as generator:
            spans = generator.submit(write_mailbox, path, args.messages).result()
        size_mib = path.stat().st_size / 2**20
        print(
            f"mailbox: {len(spans)} messages, {size_mib:.1f} MiB, charsets "
            f"{', '.join(CHARSETS)}; grouping {args.grouping}, batches of {args.batch}"
        )
        store = TicketStore.open(Path(folder) / "store.sqlite3")
        start_rss, _ = rss_mib()
        print(
            f"RSS before ingest: {start_rss:.1f} MiB; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
            "(other processes slow every figure)"
        )

        ingest_seconds, cpu_seconds = run_ingest(store, path, spans, args)
        tickets = store.count_tickets()
        print(
            f"to tickets: {len(spans)} messages in {ingest_seconds:.2f} s = "
            f"{len(spans) / ingest_seconds:.0f} msg/s, {tickets} tickets; "
            f"{parse_where(args.parse_workers)}, grouping and storing used "
            f"{cpu_seconds:.2f} s CPU here ({cpu_seconds / len(spans) * 1e6:.0f} "
            "µs per message)"
        )

        body_seconds = run_bodies(store, args.workers)
        print(
            f"bodies indexed: {body_seconds:.2f} s after the last ticket, "
            f"{ingest_seconds + body_seconds:.2f} s after the first message "
            f"({args.workers} worker process{'es' if args.workers > 1 else ''}, "
            f"{pending_body_count(store)} left)"
        )
        for text in ("Lieferung", "注文番号", "c1234@example", "#42"):
            started = time.perf_counter()
            found = store.count_tickets(TicketFilter(search=text))
            page = store.list_tickets(TicketFilter(search=text), 0, 50)
            elapsed_ms = (time.perf_counter() - started) * 1000
            print(
                f"search {text!r}: {found} tickets, count and first page "
                f"({len(page)} rows) in {elapsed_ms:.1f} ms"
            )
        current, peak = rss_mib()
        print(f"memory: RSS {current:.1f} MiB now, peak {peak:.1f} MiB")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
