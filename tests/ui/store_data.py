"""A real ticket store on a temporary file, filled with fixed messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import Config, IncomingChannel, OutgoingChannel, save_config
from sagicc_tui.settings.secret_store import FileSecretStore
from sagicc_tui.store import TicketStore
from sagicc_tui.store.bodies import index_pending_bodies
from sagicc_tui.store.ingest import IngestParams, ingest
from sagicc_tui.ui.channel_settings import ChannelSettings
from sagicc_tui.ui.store_backend import StoreBackend

STORE_NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def customer_mail(
    number: int,
    *,
    subject: str,
    sender: str,
    in_reply_to: str = "",
    attach: bool = False,
) -> bytes:
    """Return a small raw message from a customer, dated ``number`` hours ago."""
    date = (STORE_NOW - timedelta(hours=30 - number)).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )
    headers = [
        f"From: {sender}",
        "To: Support <support@shop.example>",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: <customer-{number}@mail.example>",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    if not attach:
        headers += [
            "Content-Type: text/plain; charset=utf-8",
            "",
            f"Body of mail {number}.",
        ]
        return "\r\n".join(headers).encode() + b"\r\n"
    headers += [
        'Content-Type: multipart/mixed; boundary="b1"',
        "",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "",
        f"Body of mail {number}, invoice attached.",
        "--b1",
        'Content-Type: application/pdf; name="invoice.pdf"',
        'Content-Disposition: attachment; filename="invoice.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        "JVBERi0xLjQgZml4ZWQ=",
        "--b1--",
    ]
    return "\r\n".join(headers).encode() + b"\r\n"


CUSTOMERS = [
    "Ana Lima <ana@mail.example>",
    "Björn Ek <bjorn@mail.example>",
    "Chen Wei <chen@mail.example>",
]

SUBJECTS = ["Invoice charged twice", "Cannot log in", "Where is my parcel?"]


def fill_store(home: Path) -> StoreBackend:
    """Create config, secrets and a store with six tickets under ``home``."""
    paths = resolve_paths({"SAGICC_HOME": str(home)}).ensure()
    incoming = IncomingChannel(
        name="support",
        host="127.0.0.1",
        port=993,
        username="support",
        outgoing_channel="support-out",
    )
    outgoing = OutgoingChannel(
        name="support-out",
        host="127.0.0.1",
        port=465,
        username="support",
        sender_address="support@shop.example",
        sender_name="Shop Support",
    )
    save_config(Config(incoming=(incoming,), outgoing=(outgoing,)), paths.config_file)

    store = TicketStore.open(paths.store_file, clock=lambda: STORE_NOW)
    params = IngestParams(channel="support", grouping="thread")
    for number in range(1, 7):
        raw = customer_mail(
            number,
            subject=SUBJECTS[number % 3],
            sender=CUSTOMERS[number % 3],
            attach=number == 1,
        )
        ingest(store, params, [raw], now=STORE_NOW - timedelta(hours=30 - number))
    answer = customer_mail(
        7,
        subject="Re: Invoice charged twice",
        sender=CUSTOMERS[0],
        in_reply_to="customer-3@mail.example",
    )
    ingest(store, params, [answer], now=STORE_NOW - timedelta(hours=1))
    index_pending_bodies(store)

    settings = ChannelSettings(paths, secrets=FileSecretStore(paths.secrets_dir))
    return StoreBackend(store, settings, operator="tester")
