"""Subject normalization: prefixes in many languages, list tags, false prefixes."""

from __future__ import annotations

import pytest

from sagicc_tui.tickets import has_reply_prefix, normalize_subject

# (language, subject as received, expected key)
PREFIXES = [
    ("English", "Re: Invoice 12", "invoice 12"),
    ("English", "Fwd: Invoice 12", "invoice 12"),
    ("English", "FW: Invoice 12", "invoice 12"),
    ("German", "AW: Rechnung 12", "rechnung 12"),
    ("German", "WG: Rechnung 12", "rechnung 12"),
    ("Swedish", "SV: Faktura 12", "faktura 12"),
    ("Swedish", "VB: Faktura 12", "faktura 12"),
    ("Danish", "VS: Faktura 12", "faktura 12"),
    ("Finnish", "VL: Lasku 12", "lasku 12"),
    ("Dutch", "Antw: Factuur 12", "factuur 12"),
    ("Dutch", "Doorst: Factuur 12", "factuur 12"),
    ("Spanish", "RV: Factura 12", "factura 12"),
    ("French", "TR: Facture 12", "facture 12"),
    ("French", "RE : Facture 12", "facture 12"),
    ("Italian", "RIF: Fattura 12", "fattura 12"),
    ("Italian", "R: Fattura 12", "fattura 12"),
    ("Portuguese", "RES: Fatura 12", "fatura 12"),
    ("Portuguese", "ENC: Fatura 12", "fatura 12"),
    ("Polish", "Odp: Faktura 12", "faktura 12"),
    ("Polish", "PD: Faktura 12", "faktura 12"),
    ("Turkish", "YNT: Fatura 12", "fatura 12"),
    ("Turkish", "İLT: Fatura 12", "fatura 12"),
    ("Hungarian", "VÁ: Számla 12", "számla 12"),
    ("Russian", "Ответ: Счёт 12", "счёт 12"),
    ("Russian", "Отв: Счёт 12", "счёт 12"),
    ("Russian", "Пересл: Счёт 12", "счёт 12"),
    ("Greek", "ΑΠ: Τιμολόγιο 12", "τιμολόγιο 12"),
    ("Greek", "ΣΧΕΤ: Τιμολόγιο 12", "τιμολόγιο 12"),
    ("Hebrew", "השב: חשבונית 12", "חשבונית 12"),
    ("Arabic", "رد: فاتورة 12", "فاتورة 12"),
    ("Simplified Chinese", "回复: 发票 12", "发票 12"),
    ("Simplified Chinese", "答复：发票 12", "发票 12"),
    ("Simplified Chinese", "转发: 发票 12", "发票 12"),
    ("Traditional Chinese", "回覆：發票 12", "發票 12"),
    ("Traditional Chinese", "轉寄: 發票 12", "發票 12"),
    ("Japanese", "返信: 請求書 12", "請求書 12"),
    ("Japanese", "転送：請求書 12", "請求書 12"),
    ("Korean", "회신: 청구서 12", "청구서 12"),
    ("Korean", "전달: 청구서 12", "청구서 12"),
]


@pytest.mark.parametrize(
    ("language", "subject", "expected"),
    PREFIXES,
    ids=[f"{language}-{subject}" for language, subject, _ in PREFIXES],
)
def test_prefix_table(language: str, subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected
    assert has_reply_prefix(subject)


def test_prefix_table_languages() -> None:
    assert len({language for language, _, _ in PREFIXES}) >= 15


STACKS = [
    ("Re: AW: Fwd: SV: Hello", "hello"),
    ("RE: re: Re:Hello", "hello"),
    ("Re[2]: Hello", "hello"),
    ("Re^3: Hello", "hello"),
    ("Re(4): Hello", "hello"),
    ("Re [2]: Hello", "hello"),
    ("[EXT] Re: Hello", "hello"),
    ("[SPAM] [EXT] Hello", "hello"),
    ("Re: [dev-list] Re: Hello", "hello"),
    ("Fwd: [EXT] AW: [dev-list] WG: Hello", "hello"),
    ("Hello (fwd)", "hello"),
    ("Fwd: Hello (fwd) (fw)", "hello"),
    ("Re: Hello [#12]", "hello"),
    ("[#12] Re: Hello", "hello"),
    ("Re: Hello [#12] again", "hello again"),
    ("ＲＥ：Ｈｅｌｌｏ", "hello"),
    ("Ａｗ： Hello", "hello"),
    ("回复：回复：你好", "你好"),
    ("Re:   Hello    World  ", "hello world"),
    ("RE: HELLO Straße", "hello strasse"),
]


@pytest.mark.parametrize(("subject", "expected"), STACKS)
def test_stacked_prefixes_and_tags(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


# Real words and near misses that must stay part of the subject.
KEPT = [
    ("Request: new laptop", "request: new laptop"),
    ("Reply needed: contract", "reply needed: contract"),
    ("Antwerp: office move", "antwerp: office move"),
    ("Rest: of the order", "rest: of the order"),
    ("Area: 51", "area: 51"),
    ("AWS: bill too high", "aws: bill too high"),
    ("Refund: order 5", "refund: order 5"),
    ("Re-install: Office", "re-install: office"),
    ("Re Hello", "re hello"),
    ("Status Re: Hello", "status re: hello"),
    ("Fwding: tips", "fwding: tips"),
    ("Trouble: printer", "trouble: printer"),
    ("Encoding: broken", "encoding: broken"),
    ("Résumé: attached", "résumé: attached"),
    ("[urgent]", "[urgent]"),
    ("Re: [urgent]", "[urgent]"),
]


@pytest.mark.parametrize(("subject", "expected"), KEPT)
def test_real_words_kept(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


@pytest.mark.parametrize(
    "subject", ["Request: new laptop", "Antwerp: trip", "Hello", "Re Hello", ""]
)
def test_no_reply_prefix(subject: str) -> None:
    assert not has_reply_prefix(subject)


def test_tag_prefix_only_strips_ours() -> None:
    assert normalize_subject("Re: Hello [ACME#5]", "ACME") == "hello"
    assert normalize_subject("Re: Hello [acme#5]", "ACME") == "hello"
    assert normalize_subject("Re: Hello [#5]", "ACME") == "hello [#5]"


def test_empty_subject() -> None:
    assert normalize_subject("") == ""
    assert normalize_subject("Re:") == ""
