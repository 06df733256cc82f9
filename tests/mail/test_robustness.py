"""Any input gives a record, and real mail from the corpus parses losslessly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sagicc_tui.mail import MessageRecord, RecordFlag, attachment_bytes, parse_message
from tests.mail.support import ARRIVAL, FIXTURES

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "real"

GARBAGE = [
    b"",
    b"\n",
    b"\r\n\r\n",
    b"\x00\x01\x02\xff" * 50,
    b"just one line without a colon",
    b"Subject",
    b":\n:\n:",
    b"Subject: =?utf-8?b?",
    b'Subject: =?utf-8?q?=?=\nFrom: <<<>>>,,,"\n\n',
    b'From: "unterminated\nTo: (comment (nested\nDate: 99 99 99\n\n',
    b'Content-Type: multipart/mixed; boundary="b"\n\n'
    b"--b\nContent-Type: message/rfc822\n\n",
    b"Content-Type: multipart/mixed; boundary=\n\n--\n--\n",
    b'Content-Type: text/plain; charset="\xff\xfe"\n'
    b"Content-Transfer-Encoding: base64\n\n@@@\n",
    b"Content-Type: text/plain; charset=unicode_escape\n\n\\u0041\\x\n",
    b"Content-Disposition: attachment; filename*0*=x'y'%ZZ; filename*1=\xff\n\nz",
    b"Thread-Index: ====\nReferences: <<<@>>>\nIn-Reply-To: (((\n\n",
]


def _check_record(record: MessageRecord, raw: bytes) -> None:
    assert isinstance(record, MessageRecord)
    assert record.raw == raw
    assert record.message_id
    assert record.date.tzinfo is not None


@pytest.mark.parametrize("raw", GARBAGE)
def test_garbage_never_raises(raw: bytes) -> None:
    record = parse_message(raw, arrival=ARRIVAL)

    _check_record(record, raw)
    assert record.body_parsed is True


def test_no_header_at_all_is_unparseable() -> None:
    raw = b"\x00\x01 binary noise \xff"
    record = parse_message(raw, arrival=ARRIVAL)

    assert RecordFlag.UNPARSEABLE in record.flags
    assert RecordFlag.NO_MESSAGE_ID in record.flags
    assert record.date == ARRIVAL
    assert record.body_text != ""


def test_random_bytes_never_raise() -> None:
    generator = random.Random(20261204)
    alphabet = (
        b'From:To:Subject:=?utf-8?q?<>@,;"()\r\n\t'
        b" Content-Type: multipart/mixed\xe9\xff"
    )
    for _ in range(300):
        length = generator.randrange(0, 400)
        raw = bytes(generator.choice(alphabet) for _ in range(length))
        _check_record(parse_message(raw, arrival=ARRIVAL), raw)


def test_mutated_fixtures_never_raise() -> None:
    generator = random.Random(7)
    for path in sorted(FIXTURES.glob("*.eml")):
        original = bytearray(path.read_bytes())
        for _ in range(20):
            mutated = bytearray(original)
            for _ in range(generator.randrange(1, 8)):
                mutated[generator.randrange(len(mutated))] = generator.randrange(256)
            cut = bytes(mutated[: generator.randrange(len(mutated) + 1)])
            _check_record(parse_message(cut, arrival=ARRIVAL), cut)


def test_non_bytes_input_gives_record() -> None:
    record = parse_message(bytearray(b"Subject: from a bytearray\n\nx"))
    assert record.subject == "from a bytearray"
    assert isinstance(record.raw, bytes)

    record = parse_message(None, arrival=ARRIVAL)  # type: ignore[arg-type]
    assert RecordFlag.UNPARSEABLE in record.flags


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(path for path in CORPUS.rglob("*") if path.is_file())


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared mail corpus not present")
def test_corpus_parses_losslessly() -> None:
    files = _corpus_files()
    assert files

    for path in files:
        raw = path.read_bytes()
        headers_only = parse_message(raw, with_body=False, arrival=ARRIVAL)
        full = parse_message(raw, arrival=ARRIVAL)

        assert headers_only.raw == raw, path
        assert full.raw == raw, path
        assert full.body_parsed, path
        assert full.message_id == headers_only.message_id, path
        assert full.kind == headers_only.kind, path
        # Enclosed messages are sized from raw byte ranges, so check those.
        enclosed = [
            a for a in full.attachments if a.content_type.startswith("message/")
        ]
        for attachment in enclosed:
            data = attachment_bytes(raw, attachment.part_index)
            assert len(data) == attachment.size, (path, attachment)

        # UNPARSEABLE only for input without any header field.
        if RecordFlag.UNPARSEABLE in full.flags:
            assert not headers_only.subject, path
            assert not headers_only.from_addr, path
