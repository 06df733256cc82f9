"""FakeMail end to end: the basic scenario on a stepped clock with real clients."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import imaplib
import smtplib
from email.message import EmailMessage

from fakemail.clock import SteppedClock
from fakemail.scenario import load_scenario, message_date, replace_date
from fakemail.server import FakeMail
from tests.fakemail.conftest import SCENARIOS, write_scenario

BASIC = SCENARIOS / "basic"


def _imap(server: FakeMail, channel: str = "Support") -> imaplib.IMAP4_SSL:
    endpoint = server.endpoint(channel)
    client = imaplib.IMAP4_SSL(
        endpoint.host,
        endpoint.port,
        ssl_context=server.tls.client_context(),
        timeout=5,
    )
    client.login(endpoint.username, str(endpoint.secret))
    return client


def _inbox_count(server: FakeMail) -> int:
    client = _imap(server)
    try:
        status, data = client.select("INBOX", readonly=True)
        assert status == "OK"
        return int(data[0])
    finally:
        client.logout()


def _send_reply(server: FakeMail, message_id: str) -> None:
    endpoint = server.endpoint("Support SMTP")
    reply = EmailMessage()
    reply["From"] = "Example Support <support@example.test>"
    reply["To"] = "Erin Walsh <erin@customer.example>"
    reply["Subject"] = "Re: Refund for order 2211 [#9]"
    reply["Message-ID"] = "<reply-1@example.test>"
    reply["In-Reply-To"] = message_id
    reply["References"] = message_id
    reply.set_content("Hello Erin, the refund was sent today.")
    with smtplib.SMTP_SSL(
        endpoint.host,
        endpoint.port,
        context=server.tls.client_context(),
        timeout=5,
    ) as client:
        client.login(endpoint.username, str(endpoint.secret))
        client.send_message(reply)


async def test_basic_scenario_runs_on_stepped_clock(fakemail_server) -> None:
    clock = SteppedClock()
    server = await fakemail_server(BASIC, clock=clock)

    assert await asyncio.to_thread(_inbox_count, server) == 8

    await clock.advance(5)
    assert await asyncio.to_thread(_inbox_count, server) == 9
    assert [step.event.action for step in server.timeline.fired] == ["deliver"]
    assert server.timeline.fired[0].at == 5.0

    await clock.advance(5)
    request = await server.next_operator_reply(timeout=1)
    assert request.name == "reply-erin"
    assert request.message == "09-erin-refund"
    assert request.message_id == "<CAE+refund2211@customer.example>"
    assert request.at == 10.0
    assert "refund for order 2211" in request.body

    await asyncio.to_thread(_send_reply, server, str(request.message_id))
    await asyncio.sleep(0)
    assert len(server.outbox) == 1

    await clock.advance(19)
    assert server.responders.answers == []
    await clock.advance(1)
    [answer] = server.responders.answers
    assert answer.name == "erin-answer"
    assert answer.scenario_time == 30.0

    stored = server.messages.get("erin-answer")
    parsed = email.message_from_bytes(stored.message.raw, policy=email.policy.default)
    assert parsed["Subject"] == "Re: Refund for order 2211 [#9]"
    assert parsed["In-Reply-To"] == "<reply-1@example.test>"
    assert parsed["References"] == (
        "<CAE+refund2211@customer.example> <reply-1@example.test>"
    )
    assert parsed["From"] == "Erin Walsh <erin@customer.example>"
    assert parsed["To"] == "Example Support <support@example.test>"
    assert "money arrived" in parsed.get_content()
    assert await asyncio.to_thread(_inbox_count, server) == 10


async def test_reset_restores_first_second(fakemail_server) -> None:
    clock = SteppedClock()
    server = await fakemail_server(BASIC, clock=clock)
    port = server.ports["imap"]
    await clock.advance(10)
    assert await asyncio.to_thread(_inbox_count, server) == 9

    await server.reset()

    assert server.ports["imap"] == port
    assert await asyncio.to_thread(_inbox_count, server) == 8
    assert server.timeline.fired == []
    assert server.operator_replies == []
    assert len(server.outbox) == 0


async def test_endpoint_and_info(fakemail_server) -> None:
    server = await fakemail_server(BASIC, clock=SteppedClock())
    endpoint = server.endpoint("Support")
    assert endpoint.host == "127.0.0.1"
    assert endpoint.port == server.ports["imap"]
    assert endpoint.encryption == "ssl"
    assert endpoint.secret == "basic-support-password"
    assert endpoint.ca_path.is_file()

    info = server.info()
    assert [listener["name"] for listener in info["listeners"]] == ["imap", "smtp"]
    assert all(listener["port"] for listener in info["listeners"])
    assert info["accounts"][0]["username"] == "support@example.test"
    assert info["ca_path"] == str(server.ca_path)


def _send(server: FakeMail, to: str, subject: str, in_reply_to: str) -> None:
    endpoint = server.endpoint("Demo SMTP")
    reply = EmailMessage()
    reply["From"] = "Demo Support <support@demo.example>"
    reply["To"] = to
    reply["Subject"] = subject
    reply["Message-ID"] = f"<reply.{to.split()[0].lower()}@demo.example>"
    reply["In-Reply-To"] = in_reply_to
    reply.set_content("We are on it.")
    context = server.tls.client_context()
    with smtplib.SMTP_SSL(endpoint.host, endpoint.port, context=context) as client:
        client.login(endpoint.username, str(endpoint.secret))
        client.send_message(reply)


async def test_demo_mail_arrives_and_customers_answer(fakemail_server) -> None:
    clock = SteppedClock()
    server = await fakemail_server(SCENARIOS / "demo", clock=clock)
    store = server.mailstore

    def counts() -> dict[str, int]:
        return {
            account.username.split("@")[0]: len(
                store.messages(account.username, "INBOX")
            )
            for account in server.scenario.accounts
        }

    assert counts() == {"support": 5, "sales": 2, "billing": 3, "alerts": 3}
    await clock.advance(230)
    assert counts() == {"support": 10, "sales": 6, "billing": 5, "alerts": 5}
    assert all(step.error is None for step in server.timeline.fired)

    lena_id = server.messages.message_id("s02-lena-followup")
    await asyncio.to_thread(
        _send,
        server,
        "Lena Fischer <lena.fischer@web-mail.example>",
        "Re: Router verliert ständig die Verbindung [#1]",
        str(lena_id),
    )
    await asyncio.to_thread(
        _send,
        server,
        "Tom Baker <tom.baker@northwind.example>",
        "RE: VPN client crashes on start [#2]",
        str(server.messages.message_id("s04-tom-outlook-reply")),
    )
    await asyncio.sleep(0)
    await clock.advance(45)

    names = sorted(answer.name for answer in server.responders.answers)
    assert names == ["lena-thanks", "tom-auto-reply"]
    auto = email.message_from_bytes(
        server.messages.get("tom-auto-reply").message.raw,
        policy=email.policy.default,
    )
    assert auto["Subject"] == "Automatic reply: RE: VPN client crashes on start [#2]"
    assert auto["Auto-Submitted"] == "auto-replied"
    thanks = server.messages.get("lena-thanks")
    assert thanks.user == "support@demo.example"
    parsed = email.message_from_bytes(thanks.message.raw, policy=email.policy.default)
    assert parsed["Subject"] == "Re: Router verliert ständig die Verbindung [#1]"
    assert parsed["From"] == "Lena Fischer <lena.fischer@web-mail.example>"
    assert counts()["support"] == 12


LOCAL_SCENARIO = """
[[accounts]]
username = "agent@example.test"
password = "agent-password"

[[accounts]]
username = "team@example.test"
password = "team-password"

[[listeners]]
name = "smtp"
protocol = "smtp"
encryption = "none"
deliver_local = true
"""


async def test_local_recipients_get_mail(fakemail_server, tmp_path) -> None:
    path = write_scenario(tmp_path / "local", LOCAL_SCENARIO)
    server = await fakemail_server(path, clock=SteppedClock())

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=5) as client:
            client.sendmail(
                "agent@example.test",
                ["TEAM@example.test", "customer@example.org"],
                b"Subject: copy\r\nMessage-ID: <copy@example.test>\r\n\r\nhi\r\n",
            )

    await asyncio.to_thread(send)

    [record] = server.outbox.records()
    [delivered] = server.mailstore.messages("team@example.test", "INBOX")
    assert delivered.raw == record.raw
    assert server.mailstore.messages("agent@example.test", "INBOX") == []

    uid = server.deliver_outgoing(record.id, "agent@example.test", "Sent")
    assert uid == 1
    assert server.messages.message_id(f"outbox-{record.id}") == "<copy@example.test>"


async def test_redate_moves_dates_to_the_run(fakemail_server, tmp_path) -> None:
    scenario = load_scenario(SCENARIOS / "demo")
    clock = SteppedClock(epoch=1_800_000_000.0)
    server = await fakemail_server(scenario, clock=clock)
    start = datetime.datetime.fromtimestamp(1_800_000_000.0, datetime.UTC)

    dates = [
        message_date(named.message.raw)
        for named in (server.messages.get(n) for n in server.messages.names())
    ]

    assert dates
    assert max(dates) == start
    assert all(date <= start for date in dates)
    assert min(dates) > start - datetime.timedelta(days=30)


def test_replace_date_only_touches_headers() -> None:
    raw = (
        b"From: a@example.test\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
        b"Subject: x\r\n\r\nDate: keep this line\r\n"
    )
    when = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC)

    changed = replace_date(raw, when)

    assert b"Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n" in changed
    assert changed.endswith(b"\r\n\r\nDate: keep this line\r\n")
    assert message_date(changed) == when


def test_replace_date_leaves_missing_date() -> None:
    raw = b"From: a@example.test\r\nSubject: x\r\n\r\nbody\r\n"
    when = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC)
    assert replace_date(raw, when) == raw
