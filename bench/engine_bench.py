"""Time the engine's first sync of a large mailbox beside mbsync, and IDLE latency.

Run from the repository root:

    .venv/bin/python bench/engine_bench.py [--messages 10000] [--size 4000]
                                           [--latency 100]

The script starts a Dovecot on 127.0.0.1 (``tests/support/dovecot.py``,
Debian package dovecot-imapd), writes ``--messages`` generated messages of
about ``--size`` bytes into its maildir (conversations of one to four
messages from 500 customers) and lets Dovecot index them. Then it times:

1. the engine's first sync of that folder into tickets (``sagicc`` store
   under a temporary ``SAGICC_HOME``, implicit TLS, grouping ``thread``),
   then the body pass that indexes the text for search;
2. ``mbsync`` (Debian package isync) copying the same folder to a maildir
   over implicit TLS, when it is installed;
3. with the engine running in IDLE on another folder, the time from an
   APPEND by a second connection (Python's imaplib, in a thread) to the
   ticket in the store, for ``--latency`` messages one after another:
   median and 95th percentile.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SYNC_FOLDER = "INBOX"
LATENCY_FOLDER = "latency"
CUSTOMERS = 500


def make_message(number: int, size: int) -> bytes:
    """Return message ``number``; every fourth starts a conversation, others reply."""
    root = number - (number - 1) % 4
    customer = root % CUSTOMERS
    reply = number != root
    subject = f"Order {root} cannot be delivered"
    headers = [
        f"From: Customer {customer} <customer{customer}@example.org>",
        "To: Support <support@example.test>",
        f"Subject: {'Re: ' if reply else ''}{subject}",
        f"Date: Mon, 01 Jun 2026 {8 + number % 10:02d}:{number % 60:02d}:00 +0000",
        f"Message-ID: <bench{number}@example.org>",
    ]
    if reply:
        headers.append(f"In-Reply-To: <bench{number - 1}@example.org>")
        headers.append(f"References: <bench{root}@example.org>")
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    head = ("\r\n".join(headers) + "\r\n\r\n").encode()
    line = f"Message {number:05d}: where is my parcel? ".encode().ljust(74, b".")
    count = max(1, (size - len(head)) // (len(line) + 2))
    return head + (line + b"\r\n") * count


def fill_maildir(mail_root: Path, username: str, count: int, size: int) -> int:
    """Write messages into Dovecot's maildir for ``username``; return the bytes."""
    folder = mail_root / "mail" / username
    for name in ("cur", "new", "tmp"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    total = 0
    for number in range(1, count + 1):
        raw = make_message(number, size)
        total += len(raw)
        name = f"{1780000000 + number}.M{number}P1.enginebench:2,"
        (folder / "cur" / name).write_bytes(raw)
    owner = (mail_root / "mail").stat()
    for path in [folder, *folder.iterdir(), *folder.glob("*/*")]:
        os.chown(path, owner.st_uid, owner.st_gid)
    return total


def imap_connection(server) -> imaplib.IMAP4_SSL:  # noqa: ANN001 - a Dovecot
    context = ssl.create_default_context(cafile=str(server.ca_file))
    connection = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=context)
    connection.login(server.username, server.password)
    return connection


def warm_up(server) -> None:  # noqa: ANN001
    """Let Dovecot build its index and cache before anything is timed."""
    connection = imap_connection(server)
    connection.create(LATENCY_FOLDER)
    connection.select(SYNC_FOLDER, readonly=True)
    connection.uid("FETCH", "1:*", "(UID RFC822.SIZE INTERNALDATE)")
    connection.uid("FETCH", "1:*", "(BODY.PEEK[HEADER])")
    connection.logout()


def engine_setup(server, home: Path):  # noqa: ANN001, ANN201
    os.environ["SAGICC_HOME"] = str(home)
    from sagicc_tui.paths import resolve_paths
    from sagicc_tui.settings import PASSWORD, Config, FileSecretStore, secret_key
    from sagicc_tui.settings.models import (
        Encryption,
        Grouping,
        ImportExisting,
        IncomingChannel,
    )
    from sagicc_tui.store import TicketStore

    paths = resolve_paths().ensure()
    channels = tuple(
        IncomingChannel(
            name=name,
            host="127.0.0.1",
            port=server.imaps_port,
            encryption=Encryption.SSL,
            ca_file=str(server.ca_file),
            username=server.username,
            folder=folder,
            grouping=Grouping.THREAD,
            import_existing=ImportExisting.all(),
        )
        for name, folder in (("bulk", SYNC_FOLDER), ("live", LATENCY_FOLDER))
    )
    secrets = FileSecretStore(paths.secrets_dir)
    for channel in channels:
        secrets.set(secret_key(channel.name, PASSWORD), server.password)
    store = TicketStore.open(paths=paths)
    return channels, secrets, store, Config


async def bench_first_sync(server, home: Path, workers: int | None) -> float:  # noqa: ANN001
    from sagicc_tui.engine.runner import Engine

    channels, secrets, store, config_class = engine_setup(server, home)
    config = config_class(incoming=(channels[0],))
    engine = Engine(config, store, secrets, run_outbox=False, parse_workers=workers)

    started = time.perf_counter()
    results = await engine.sync_once(index_bodies=False)
    synced = time.perf_counter() - started
    result = results["bulk"]
    if not hasattr(result, "stored"):
        raise SystemExit(f"first sync failed: {result}")
    tickets = store.count_tickets()

    engine = Engine(config, store, secrets, run_outbox=False, parse_workers=workers)
    started = time.perf_counter()
    await engine.sync_once(index_bodies=True)
    indexed = time.perf_counter() - started
    store.close()

    print(
        f"engine first sync: {synced:.2f} s for {result.stored} messages "
        f"into {tickets} tickets ({result.stored / synced:.0f} msg/s)"
    )
    print(f"engine body pass (search index), afterwards: {indexed:.2f} s")
    return synced


def bench_mbsync(server, directory: Path) -> float | None:  # noqa: ANN001
    binary = shutil.which("mbsync")
    if binary is None:
        print("mbsync: not installed (Debian package isync); skipped")
        return None
    target = directory / "maildir"
    target.mkdir()
    config = directory / "mbsyncrc"
    # FSync no: the store does not fsync each batch either (SQLite WAL with
    # synchronous=NORMAL), and fsync per message dominates mbsync's time
    # on slow disks.
    config.write_text(
        "FSync no\n\n"
        "IMAPAccount bench\n"
        "Host localhost\n"
        f"Port {server.imaps_port}\n"
        f"User {server.username}\n"
        f"Pass {server.password}\n"
        "SSLType IMAPS\n"
        f"CertificateFile {server.ca_file}\n"
        "\n"
        "IMAPStore remote\nAccount bench\n\n"
        f"MaildirStore local\nPath {target}/\nInbox {target}/INBOX\n\n"
        "Channel bench\nFar :remote:INBOX\nNear :local:INBOX\n"
        "Create Near\nSync Pull\nSyncState *\n"
    )
    config.chmod(0o600)
    started = time.perf_counter()
    completed = subprocess.run(
        [binary, "-q", "-c", str(config), "bench"], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        print(f"mbsync failed ({completed.returncode}): {completed.stderr.strip()}")
        return None
    copied = len(list((target / "INBOX" / "cur").iterdir())) + len(
        list((target / "INBOX" / "new").iterdir())
    )
    print(f"mbsync to a maildir: {elapsed:.2f} s for {copied} messages")
    return elapsed


async def idle_watcher(server, arrivals: list[float], ready: asyncio.Event) -> None:  # noqa: ANN001
    """Record when Dovecot reports each new message to a plain IDLE client."""
    from sagicc_tui.engine.imap import ImapClient, ImapEndpoint

    endpoint = ImapEndpoint(
        "127.0.0.1", server.imaps_port, "ssl", ca_file=str(server.ca_file)
    )
    client = ImapClient(endpoint)
    await client.connect()
    await client.login(server.username, server.password)
    await client.select(LATENCY_FOLDER)
    try:
        while True:
            client.mailbox_changed.clear()
            await client.idle_start()
            ready.set()
            await client.mailbox_changed.wait()
            arrivals.append(time.perf_counter())
            await client.idle_done()
    finally:
        client.abort()


async def bench_latency(server, home: Path, count: int) -> None:  # noqa: ANN001
    from sagicc_tui.engine.runner import Engine

    channels, secrets, store, config_class = engine_setup(server, home)
    config = config_class(incoming=(channels[1],))
    engine = Engine(config, store, secrets, run_outbox=False)
    task = asyncio.create_task(engine.run())
    arrivals: list[float] = []
    ready = asyncio.Event()
    watcher = asyncio.create_task(idle_watcher(server, arrivals, ready))
    while "live" not in engine.channels or engine.channels["live"].state != "idle":
        await asyncio.sleep(0.01)

    writer = imap_connection(server)
    totals: list[float] = []
    notices: list[float] = []
    try:
        for number in range(count):
            raw = make_message(900_000 + number * 4 + 1, 3000)
            before = store.count_tickets()
            await ready.wait()
            ready.clear()
            started = time.perf_counter()
            await asyncio.to_thread(writer.append, LATENCY_FOLDER, None, None, raw)
            while store.count_tickets() == before or len(arrivals) <= number:
                await asyncio.sleep(0.001)
            totals.append(time.perf_counter() - started)
            notices.append(arrivals[number] - started)
    finally:
        writer.logout()
        watcher.cancel()
        await engine.stop()
        await task
        store.close()

    print(f"APPEND by a second connection to the ticket in the store ({count}):")
    for label, values in (
        ("  APPEND to ticket", totals),
        ("  APPEND to Dovecot's EXISTS (another IDLE client)", notices),
        (
            "  engine's share (ticket minus EXISTS)",
            [t - n for t, n in zip(totals, notices, strict=True)],
        ),
    ):
        ordered = sorted(values)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        print(
            f"{label}: median {statistics.median(ordered) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument(
        "--size",
        type=int,
        default=4_000,
        help="approximate size of each message in bytes",
    )
    parser.add_argument(
        "--latency",
        type=int,
        default=100,
        help="messages to APPEND for the IDLE latency",
    )
    parser.add_argument(
        "--parse-workers",
        type=int,
        default=None,
        help="parsing processes (default: the engine's; 0 parses in the engine)",
    )
    args = parser.parse_args()

    from tests.support.dovecot import start_dovecot

    with tempfile.TemporaryDirectory(prefix="engine-bench-") as directory:
        root = Path(directory)
        server = start_dovecot(root / "dovecot")
        try:
            imap_connection(server).logout()  # creates the user's maildir
            total = fill_maildir(
                server.mail_root or root / "dovecot",
                server.username,
                args.messages,
                args.size,
            )
            print(
                f"mailbox: {args.messages} messages, {total / 1e6:.1f} MB, "
                f"Dovecot on 127.0.0.1:{server.imaps_port} (implicit TLS)"
            )
            warm_up(server)
            engine_seconds = asyncio.run(
                bench_first_sync(server, root / "home-sync", args.parse_workers)
            )
            mbsync_seconds = bench_mbsync(server, root)
            if mbsync_seconds:
                print(f"engine / mbsync: {engine_seconds / mbsync_seconds:.2f}x")
            asyncio.run(bench_latency(server, root / "home-live", args.latency))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
