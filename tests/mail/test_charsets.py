"""Decoding: RFC 2047 words, 8-bit headers, charset supersets and fallbacks."""

from __future__ import annotations

import pytest

from sagicc_tui.mail import RecordFlag, parse_message
from sagicc_tui.mail.charsets import decode_bytes, decode_fallback
from tests.mail.support import ARRIVAL, fixture_bytes, message, parse_fixture

# fixture, declared charset's own codec, expected body text.
SUPERSET_CASES = [
    ("charset-iso-8859-1.eml", "iso-8859-1", "“Quoted” price: 5€"),
    ("charset-us-ascii.eml", "ascii", "Total 12€ – paid"),
    ("charset-gb2312.eml", "gb2312", "您好，镕钢订单"),
    ("charset-shift-jis.eml", "shift_jis", "注文番号①の件"),
    ("charset-ks-c-5601.eml", "euc_kr", "햏 주문 확인"),
    ("charset-iso-2022-jp.eml", "iso2022_jp", "ｶﾀｶﾅ 半角の注文"),
]


def _body_bytes(name: str) -> bytes:
    raw = fixture_bytes(name)
    return raw.split(b"\n\n", 1)[1].rstrip(b"\n")


@pytest.mark.parametrize(("name", "base_codec", "expected"), SUPERSET_CASES)
def test_declared_charset_uses_superset(
    name: str, base_codec: str, expected: str
) -> None:
    # The fixture must really need the superset, or the test proves nothing.
    body = _body_bytes(name)
    decoded_by_base = body.decode(base_codec, errors="replace")
    assert decoded_by_base != expected

    record = parse_fixture(name)

    assert record.body_text == expected
    assert RecordFlag.CHARSET_FALLBACK not in record.flags
    assert RecordFlag.DECODE_REPLACED not in record.flags


def test_split_multibyte_encoded_words() -> None:
    record = parse_fixture("subject-split-multibyte.eml")

    assert record.subject == "日本語のテキスト"
    assert record.from_addr is not None
    assert record.from_addr.name == "山田 太郎"
    assert record.flags == set()


def test_mixed_encoded_and_plain_subject() -> None:
    record = parse_fixture("subject-mixed.eml")

    # Space between encoded words is dropped, space next to plain text kept.
    assert record.subject == "Re: Café order № 12 déjà vu ok"
    assert record.from_addr is not None
    assert record.from_addr.name == "André Martin"


def test_raw_8bit_headers_use_channel_encoding() -> None:
    record = parse_fixture("header-8bit-latin1.eml", encoding="windows-1252")

    assert record.subject == "Facture n° 12 – réponse"
    assert record.from_addr is not None
    assert record.from_addr.name == "Renée François"
    assert RecordFlag.CHARSET_FALLBACK not in record.flags


def test_raw_8bit_headers_wrong_channel_flagged() -> None:
    record = parse_fixture("header-8bit-latin1.eml", encoding="utf-8")

    # Too short for detection: replaced visibly, never dropped.
    assert "\ufffd" in record.subject
    assert record.subject.startswith("Facture n")
    assert RecordFlag.CHARSET_FALLBACK in record.flags
    assert RecordFlag.DECODE_REPLACED in record.flags


def test_raw_utf8_headers_with_utf8_channel() -> None:
    record = parse_fixture("header-8bit-utf8.eml")

    assert record.subject == "Grüße aus Malmö"
    assert record.from_addr is not None
    assert record.from_addr.name == "Zoë Ågren"
    assert record.flags == set()


def test_unknown_charset_falls_back_to_channel() -> None:
    record = parse_fixture("charset-unknown.eml")

    assert record.body_text == "Grüße, naïve café"
    assert RecordFlag.CHARSET_FALLBACK in record.flags
    assert RecordFlag.DECODE_REPLACED not in record.flags


def test_wrong_declared_charset_uses_channel() -> None:
    record = parse_fixture("charset-wrong.eml", encoding="windows-1252")

    assert record.body_text == "Grüße aus Köln, naïve café"
    assert RecordFlag.CHARSET_FALLBACK in record.flags
    assert RecordFlag.DECODE_REPLACED not in record.flags


def test_wrong_charset_detected_when_channel_fails() -> None:
    text = (
        "Bonjour, merci pour votre message. Nous vous répondrons très bientôt. "
        "Crème brûlée à la française, s'il vous plaît."
    )
    flags: set[RecordFlag] = set()

    decoded = decode_bytes(text.encode("cp1252"), "utf-8", "utf-8", flags)

    assert decoded == text
    assert flags == {RecordFlag.CHARSET_FALLBACK}


def test_missing_charset_uses_channel() -> None:
    for name in ("charset-missing-param.eml", "charset-missing-label.eml"):
        record = parse_fixture(name)
        assert "Grüße" in record.body_text, name
        assert RecordFlag.CHARSET_FALLBACK in record.flags, name


def test_ascii_body_without_charset_not_flagged() -> None:
    record = parse_message(message("Content-Type: text/plain", "plain ascii\n"))

    assert record.body_text == "plain ascii"
    assert RecordFlag.CHARSET_FALLBACK not in record.flags


def test_undecodable_bytes_replaced_and_flagged() -> None:
    record = parse_fixture("charset-undecodable.eml")

    assert record.body_text == "ok \ufffd\ufffd\ufffd end"
    assert RecordFlag.DECODE_REPLACED in record.flags
    assert RecordFlag.CHARSET_FALLBACK in record.flags


def test_fallback_keeps_every_byte_visible() -> None:
    flags: set[RecordFlag] = set()
    data = b"a\xff\xfeb\x80c"

    decoded = decode_fallback(data, "utf-8", flags)

    assert decoded == "a\ufffd\ufffdb\ufffdc"
    assert flags == {RecordFlag.DECODE_REPLACED}


def test_encoded_word_with_unknown_charset() -> None:
    raw = message("Subject: =?x-unknown?q?Gr=C3=BC=C3=9Fe?= team")
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.subject == "Grüße team"
    assert RecordFlag.CHARSET_FALLBACK in record.flags


def test_encoded_word_superset_and_language() -> None:
    raw = message(
        "Subject: =?iso-8859-1*fr?q?=93Caf=E9=94?= =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?="
    )
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.subject == "“Café”日本語"


def test_invalid_encoded_word_kept_as_written() -> None:
    raw = message("Subject: =?utf-8?b?@@@@?= tail")
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.subject == "=?utf-8?b?@@@@?= tail"
    assert RecordFlag.MALFORMED_HEADER in record.flags


def test_undecodable_encoded_word_flagged() -> None:
    raw = message("Subject: =?utf-8?q?bad=FF?=")
    record = parse_message(raw, arrival=ARRIVAL)

    assert record.subject == "bad\ufffd"
    assert RecordFlag.DECODE_REPLACED in record.flags


def test_damaged_utf8_stays_utf8() -> None:
    text = "Grüße aus Köln. Die Bestellung für Müller ist angekommen, danke schön."
    data = text.encode("utf-8").replace(b"Bestellung", b"Bestel\xffung")
    flags: set[RecordFlag] = set()

    decoded = decode_bytes(data, "utf-8", "utf-8", flags)

    assert decoded == text.replace("Bestellung", "Bestel\ufffdung")
    assert flags == {RecordFlag.CHARSET_FALLBACK, RecordFlag.DECODE_REPLACED}
