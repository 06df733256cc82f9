"""Responders: matching outgoing mail and filling the answer's headers."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from fakemail.clock import SteppedClock
from fakemail.outbox import Outbox, OutboxRecord
from fakemail.responders import Responders, answer_subject, build_answer
from fakemail.scenario import ResponderSpec

TEMPLATE = (
    b"From: someone@example.invalid\r\n"
    b"Subject: replaced\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Merci, c'est r\xc3\xa9gl\xc3\xa9.\r\n"
)
DATE = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _outgoing(**headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Support <support@example.test>"
    message["To"] = "Alice Moreau <alice@customer.example>, bob@shop.example"
    message["Subject"] = "Re: Order 1042 [#7]"
    message["Message-ID"] = "<reply-7@example.test>"
    message["In-Reply-To"] = "<order-1042.2@customer.example>"
    message["References"] = (
        "<order-1042.1@customer.example> <order-1042.2@customer.example>"
    )
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        message[name.replace("_", "-")] = value
    message.set_content("It ships tomorrow.")
    return message.as_bytes()


def _record(raw: bytes, rcpt: tuple[str, ...] = ("alice@customer.example",)):
    return OutboxRecord(
        id="000001",
        mail_from="support@example.test",
        rcpt_tos=rcpt,
        raw=raw,
        received_at=0.0,
        scenario_time=0.0,
        authenticated_user="support@example.test",
        listener="smtp",
        tls=True,
    )


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_answer_fills_threading_headers() -> None:
    raw = build_answer(
        _record(_outgoing()),
        TEMPLATE,
        customer="alice@customer.example",
        message_id="<answer-1@customer.example>",
        date=DATE,
    )
    answer = _parse(raw)
    assert answer["Subject"] == "Re: Order 1042 [#7]"
    assert answer["In-Reply-To"] == "<reply-7@example.test>"
    assert answer["References"] == (
        "<order-1042.1@customer.example> <order-1042.2@customer.example> "
        "<reply-7@example.test>"
    )
    assert answer["From"] == "Alice Moreau <alice@customer.example>"
    assert answer["To"] == "Support <support@example.test>"
    assert answer["Message-ID"] == "<answer-1@customer.example>"
    assert answer["Date"] == "Mon, 02 Mar 2026 09:00:00 +0000"
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer.get_content().strip() == "Merci, c'est réglé."
    assert len(answer.get_all("Subject")) == 1


def test_answer_goes_to_reply_to() -> None:
    outgoing = _outgoing(Reply_To="Helpdesk <helpdesk@example.test>")
    answer = _parse(
        build_answer(
            _record(outgoing),
            TEMPLATE,
            customer="bob@shop.example",
            message_id="<a@shop.example>",
            date=DATE,
        )
    )
    assert answer["To"] == "Helpdesk <helpdesk@example.test>"
    assert answer["From"] == "bob@shop.example"


def test_answer_without_references_starts_chain() -> None:
    outgoing = _outgoing()
    message = _parse(outgoing)
    del message["References"]
    del message["In-Reply-To"]
    answer = _parse(
        build_answer(
            _record(message.as_bytes()),
            TEMPLATE,
            customer="alice@customer.example",
            message_id="<a@customer.example>",
            date=DATE,
            subject_prefix="Automatic reply: ",
        )
    )
    assert answer["References"] == "<reply-7@example.test>"
    assert answer["Subject"] == "Automatic reply: Re: Order 1042 [#7]"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order 1042", "Re: Order 1042"),
        ("Re: Order 1042", "Re: Order 1042"),
        ("RE : Order 1042", "RE : Order 1042"),
        ("Fwd: Order 1042", "Re: Fwd: Order 1042"),
        ("", "Re: "),
    ],
)
def test_answer_subject_never_stacks_re(subject: str, expected: str) -> None:
    assert answer_subject(subject) == expected


def _spec(tmp_path: Path, **options) -> ResponderSpec:
    template = tmp_path / "template.eml"
    template.write_bytes(TEMPLATE)
    values = {
        "name": "alice",
        "template": template,
        "account": "support@example.test",
        "folder": "INBOX",
        "delay": 10.0,
        "answer": "alice-answer",
    }
    values.update(options)
    return ResponderSpec(**values)


async def test_responders_match_and_wait_delay(tmp_path: Path) -> None:
    clock = SteppedClock()
    outbox = Outbox()
    delivered: list[tuple[str, str, str, bytes]] = []
    specs = (
        _spec(tmp_path, recipient="ALICE@customer.example", ordinal=2),
        _spec(tmp_path, name="orders", answer="orders", subject=r"Order \d+", delay=5),
        _spec(
            tmp_path, name="nobody", answer="nobody", recipient="*@elsewhere.example"
        ),
    )
    responders = Responders(specs, outbox, clock, lambda *a: delivered.append(a))

    fields = dict(
        mail_from="support@example.test",
        rcpt_tos=("alice@customer.example",),
        received_at=0.0,
        scenario_time=0.0,
        authenticated_user=None,
        listener="smtp",
        tls=False,
    )
    outbox.add(raw=_outgoing(), **fields)
    outbox.add(raw=_outgoing(Subject="Re: Invoice"), **fields)
    await asyncio.sleep(0)

    await clock.advance(5)
    assert [name for name, *_ in delivered] == ["orders"]

    await clock.advance(5)
    assert [name for name, *_ in delivered] == ["orders", "alice-answer"]
    answered = _parse(delivered[1][3])
    assert answered["Subject"] == "Re: Invoice"
    assert [a.record_id for a in responders.answers] == ["000001", "000002"]

    assert responders.fire("orders") is True
    assert delivered[-1][0] == "orders-2"
    assert responders.fire("nobody") is False
    await responders.stop()
