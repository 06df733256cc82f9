"""Unit tests for fakemail's IMAP building blocks: names, syntax, store, faults."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from fakemail.accounts import Account, Accounts, TokenStatus
from fakemail.faults import FaultAction, FaultPlan, FaultRule
from fakemail.imap import utf7
from fakemail.imap.syntax import ParseError, Parser, quote, resolve
from fakemail.mailstore import EventKind, MailStore, MailStoreError, StoreEvent
from fakemail.transcript import Transcript

UTF7_CASES = [
    ("INBOX", b"INBOX"),
    ("Entwürfe", b"Entw&APw-rfe"),
    ("&", b"&-"),
    ("A&B", b"A&-B"),
    ("日本語", b"&ZeVnLIqe-"),
    ("~peter/mail/台北/日本語", b"~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
    ("Ω", b"&A6k-"),
    ("😀", b"&2D3eAA-"),
]


@pytest.mark.parametrize(("name", "wire"), UTF7_CASES)
def test_utf7_round_trip(name: str, wire: bytes):
    assert utf7.encode(name) == wire
    assert utf7.decode(wire) == name


@pytest.mark.parametrize("wire", [b"&Jjo", b"&AGE-", b"&*-", b"caf\xc3\xa9", b"&A-"])
def test_utf7_rejects_invalid(wire: bytes):
    with pytest.raises(utf7.Utf7Error):
        utf7.decode(wire)


@pytest.mark.parametrize(
    ("ranges", "values", "expected"),
    [
        (b"1:3", [1, 2, 3, 4], [0, 1, 2]),
        (b"3:1", [1, 2, 3, 4], [0, 1, 2]),
        (b"*", [1, 5, 9], [2]),
        (b"20:*", [1, 5, 9], [2]),
        (b"2,4:5,1", [1, 2, 3, 4, 5], [0, 1, 3, 4]),
        (b"6:8", [1, 5, 9], []),
        (b"1:*", [], []),
    ],
)
def test_sequence_set_resolution(ranges: bytes, values: list[int], expected: list[int]):
    assert resolve(Parser(ranges).sequence_set(), values) == expected


@pytest.mark.parametrize("text", [b"0", b"1:", b":2", b"a", b"1,,2"])
def test_sequence_set_rejects_invalid(text: bytes):
    parser = Parser(text)
    with pytest.raises(ParseError):
        parser.sequence_set()
        parser.end()


def test_parser_strings_and_literals():
    parser = Parser(b'"a \\"quoted\\" \\\\ string" {5}\r\nab\r\nc atom')
    assert parser.astring() == b'a "quoted" \\ string'
    parser.space()
    assert parser.astring() == b"ab\r\nc"
    parser.space()
    assert parser.astring() == b"atom"
    parser.end()


def test_quote_chooses_literal_for_line_breaks():
    assert quote(None) == b"NIL"
    assert quote(b'say "hi"') == b'"say \\"hi\\""'
    assert quote(b"two\r\nlines") == b"{10}\r\ntwo\r\nlines"
    assert quote("Grüße") == b"{7}\r\nGr\xc3\xbc\xc3\x9fe"


def test_mailstore_uids_and_uidvalidity():
    store = MailStore(uidvalidity_seed=100)
    assert store.folder("u@x", "inbox").uidvalidity == 100
    store.create_folder("u@x", "Sent")
    assert store.folder("u@x", "Sent").uidvalidity == 101
    uids = [store.deliver("u@x", "INBOX", b"Subject: %d\n\nx\n" % n) for n in range(3)]
    assert uids == [1, 2, 3]
    assert store.messages("u@x", "INBOX")[0].raw == b"Subject: 0\r\n\r\nx\r\n"
    assert store.expunge("u@x", "INBOX", [2]) == [2]
    assert store.deliver("u@x", "INBOX", b"x") == 4

    new = store.reset_uidvalidity("u@x", "INBOX")
    assert new == 102
    assert [m.uid for m in store.messages("u@x", "INBOX")] == [1, 2, 3]
    assert store.folder("u@x", "INBOX").uidnext == 4


def test_mailstore_events_reach_listeners():
    store = MailStore()
    events: list[StoreEvent] = []
    unsubscribe = store.subscribe(events.append)
    uid = store.deliver("u@x", "INBOX", b"x")
    store.set_flags("u@x", "INBOX", uid, ["\\seen", "$Work"])
    store.expunge("u@x", "INBOX", [uid])
    unsubscribe()
    store.deliver("u@x", "INBOX", b"y")
    assert [e.kind for e in events] == [
        EventKind.DELIVERED,
        EventKind.FLAGS,
        EventKind.EXPUNGED,
    ]
    assert events[0].uids == (uid,)


def test_mailstore_flags_are_canonical():
    store = MailStore()
    uid = store.deliver("u@x", "INBOX", b"x", flags=["\\SEEN", "\\flagged", "$Own"])
    assert store.folder("u@x", "INBOX").find(uid).flags == {
        "\\Seen",
        "\\Flagged",
        "$Own",
    }


def test_mailstore_rename_moves_children_and_inbox():
    store = MailStore()
    store.create_folder("u@x", "A")
    store.create_folder("u@x", "A/B")
    store.rename_folder("u@x", "A", "Archive")
    assert [f.name for f in store.folders("u@x")] == ["INBOX", "Archive", "Archive/B"]

    store.deliver("u@x", "INBOX", b"x")
    store.rename_folder("u@x", "INBOX", "Old")
    assert store.messages("u@x", "INBOX") == []
    assert [m.raw for m in store.messages("u@x", "Old")] == [b"x"]


def test_mailstore_errors_name_the_folder():
    store = MailStore()
    with pytest.raises(MailStoreError, match="'Missing'"):
        store.deliver("u@x", "Missing", b"x")
    with pytest.raises(MailStoreError, match="INBOX cannot be deleted"):
        store.delete_folder("u@x", "INBOX")
    with pytest.raises(MailStoreError, match="already exists"):
        store.create_folder("u@x", "inbox")
    with pytest.raises(MailStoreError, match="UID 9"):
        store.set_flags("u@x", "INBOX", 9, ["\\Seen"])


def test_mailstore_internaldate_defaults_to_clock():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    store = MailStore(now=lambda: moment)
    store.deliver("u@x", "INBOX", b"x")
    assert store.messages("u@x", "INBOX")[0].internaldate == moment


def test_accounts_check_credentials():
    accounts = Accounts(
        [Account("Agent@Example.test", "pw", {"t1": TokenStatus.VALID})]
    )
    assert accounts.check_password("agent@example.test", "pw")
    assert not accounts.check_password("agent@example.test", "PW")
    assert not accounts.check_password("nobody@example.test", "pw")
    assert accounts.check_token("AGENT@example.test", "t1") is TokenStatus.VALID
    assert accounts.check_token("agent@example.test", "t2") is None
    assert accounts.get("agent@EXAMPLE.test").username == "Agent@Example.test"
    with pytest.raises(ValueError, match="defined twice"):
        accounts.add(Account("agent@example.test"))


def test_fault_plan_counts_occurrences():
    plan = FaultPlan()
    plan.take("FETCH")
    rule = plan.add(FaultRule("fetch", FaultAction.NO, nth=2, times=2))
    assert plan.take("FETCH") is None
    assert plan.take("uid fetch") is None
    assert plan.take("FETCH") is rule
    assert plan.take("FETCH") is rule
    assert plan.take("FETCH") is None
    assert plan.rules == []


def test_fault_plan_matches_tag():
    plan = FaultPlan([FaultRule("NOOP", "bye", tag="A7", times=None)])
    assert plan.take("NOOP", "A6") is None
    assert plan.take("NOOP", "A7").action is FaultAction.BYE
    assert plan.take("NOOP", "A7") is not None


def test_fault_rule_rejects_bad_values():
    with pytest.raises(ValueError, match="one line"):
        FaultRule("NOOP", FaultAction.BYE, text="a\r\nb")
    with pytest.raises(ValueError):
        FaultRule("NOOP", "explode")
    with pytest.raises(ValueError, match="nth"):
        FaultRule("NOOP", FaultAction.NO, nth=0)


def test_transcript_redacts_imap_and_smtp_auth():
    stream = io.StringIO()
    transcript = Transcript(stream)
    lines = [
        ("c1", "C", b"a LOGIN user secret"),
        ("c1", "S", b"a OK done"),
        ("c1", "C", b"b AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0"),
        ("c1", "S", b"b OK done"),
        ("c1", "C", b"c AUTHENTICATE LOGIN"),
        ("c1", "S", b"+ VXNlcm5hbWU6"),
        ("c1", "C", b"dXNlcg=="),
        ("c1", "S", b"+ UGFzc3dvcmQ6"),
        ("c1", "C", b"c2VjcmV0"),
        ("c1", "S", b"c OK done"),
        ("c1", "C", b"d NOOP"),
        ("c2", "C", b"AUTH LOGIN"),
        ("c2", "S", b"334 VXNlcm5hbWU6"),
        ("c2", "C", b"dXNlcg=="),
        ("c2", "S", b"235 ok"),
        ("c2", "C", b"MAIL FROM:<a@b>"),
    ]
    for connection, direction, line in lines:
        transcript.record(connection, direction, line)
    text = stream.getvalue()
    assert "secret" not in text
    assert "c2VjcmV0" not in text
    assert "AHVzZXIAc2VjcmV0" not in text
    assert "dXNlcg==" not in text
    assert "c1 C a LOGIN <redacted>" in text
    assert "c1 C b AUTHENTICATE PLAIN <redacted>" in text
    assert "c1 C d NOOP" in text
    assert "c2 C MAIL FROM:<a@b>" in text
