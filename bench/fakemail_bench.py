"""Time imaplib UID FETCH of a 10,000-message mailbox from fakemail and from Dovecot.

Run from the repository root:

    .venv/bin/python bench/fakemail_bench.py [--messages 10000] [--size 20000]

Both servers get the same generated messages (about ``--size`` bytes each).
The client, Python's imaplib, fetches every message with ``UID FETCH a:b
(BODY.PEEK[])`` in batches of ``--batch`` (500) and the script prints the
seconds and MB/s for each server. fakemail runs in a child process so that
it does not share the client's interpreter lock; Dovecot is started on
127.0.0.1 by ``tests.support.dovecot.start_dovecot`` and needs the Debian
package dovecot-imapd.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

USER = "bench@example.test"
PASSWORD = "bench-password"


def make_message(number: int, size: int) -> bytes:
    """Return message ``number``: fixed headers and a body padded to ``size``."""
    header = (
        f"From: Customer {number} <customer{number}@example.org>\r\n"
        f"To: Support <{USER}>\r\n"
        f"Subject: Benchmark message {number}\r\n"
        f"Date: Mon, 01 Jun 2026 10:00:00 +0000\r\n"
        f"Message-ID: <bench{number}@example.org>\r\n"
        "\r\n"
    ).encode()
    line = f"Line of message {number:05d} ".encode().ljust(76, b".") + b"\r\n"
    count = max(1, (size - len(header)) // len(line))
    return header + line * count


def serve_fakemail(count: int, size: int) -> None:
    """Child process: serve the mailbox and print the port on stdout."""
    from fakemail.accounts import Account, Accounts
    from fakemail.imap.server import IMAPServer
    from fakemail.mailstore import MailStore

    async def main() -> None:
        store = MailStore()
        for number in range(1, count + 1):
            store.deliver(USER, "INBOX", make_message(number, size))
        server = IMAPServer(store, Accounts([Account(USER, PASSWORD)]))
        port = await server.start()
        print(port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await server.stop()

    asyncio.run(main())


def time_fetch(
    port: int, user: str, password: str, count: int, batch: int
) -> tuple[float, int]:
    """Fetch messages 1..count by UID in batches; return (seconds, bytes)."""
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(user, password)
    status, data = client.select("INBOX", readonly=True)
    assert status == "OK", data
    assert int(data[0]) == count, data
    received = 0
    started = time.perf_counter()
    for first in range(1, count + 1, batch):
        last = min(count, first + batch - 1)
        status, data = client.uid("FETCH", f"{first}:{last}", "(BODY.PEEK[])")
        assert status == "OK", data
        received += sum(len(item[1]) for item in data if isinstance(item, tuple))
    elapsed = time.perf_counter() - started
    client.logout()
    return elapsed, received


def bench_fakemail(count: int, size: int, batch: int) -> tuple[float, int]:
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-fakemail",
            "--messages",
            str(count),
            "--size",
            str(size),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        return time_fetch(port, USER, PASSWORD, count, batch)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def fill_maildir(root: Path, username: str, count: int, size: int) -> None:
    """Write the messages straight into Dovecot's maildir; it indexes them on SELECT."""
    folder = root / "mail" / username
    for name in ("cur", "new", "tmp"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for number in range(1, count + 1):
        (folder / "cur" / f"{1700000000 + number}.M{number}P1.bench:2,").write_bytes(
            make_message(number, size)
        )
    owner = root / "mail"
    stat = owner.stat()
    for path in [folder, *folder.iterdir(), *folder.glob("*/*")]:
        os.chown(path, stat.st_uid, stat.st_gid)


def bench_dovecot(count: int, size: int, batch: int) -> tuple[float, int]:
    from tests.support.dovecot import start_dovecot

    with tempfile.TemporaryDirectory(prefix="fakemail-bench-") as directory:
        server = start_dovecot(Path(directory))
        try:
            fill_maildir(
                server.mail_root or Path(directory), server.username, count, size
            )
            # The first pass builds Dovecot's index and cache; time the second.
            first = time_fetch(
                server.imap_port, server.username, server.password, count, batch
            )
            print(f"dovecot first pass (index build): {first[0]:.2f} s")
            return time_fetch(
                server.imap_port, server.username, server.password, count, batch
            )
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=10_000, help="messages in the mailbox"
    )
    parser.add_argument(
        "--size", type=int, default=20_000, help="bytes per message, roughly"
    )
    parser.add_argument("--batch", type=int, default=500, help="messages per UID FETCH")
    parser.add_argument("--serve-fakemail", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fakemail:
        serve_fakemail(args.messages, args.size)
        return 0
    results = {}
    for name, bench in (("fakemail", bench_fakemail), ("dovecot", bench_dovecot)):
        seconds, received = bench(args.messages, args.size, args.batch)
        results[name] = seconds
        print(
            f"{name:9} {args.messages} messages, {received / 1e6:.1f} MB in "
            f"{seconds:.2f} s: {received / 1e6 / seconds:.0f} MB/s"
        )
    ratio = results["dovecot"] / results["fakemail"]
    print(f"fakemail throughput is {ratio:.2f} x Dovecot's (target: at least 0.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
