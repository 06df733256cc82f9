"""Body pass: text choice, HTML rendering, attachments and forwarded mail."""

from __future__ import annotations

import base64

import pytest

from sagicc_tui.mail import RecordFlag, attachment_bytes, parse_body, parse_message
from sagicc_tui.mail.html_text import html_to_text
from tests.mail.support import ARRIVAL, fixture_bytes, message, parse_fixture


def test_html_only_rendered_to_text() -> None:
    record = parse_fixture("html-only.eml")

    assert record.body_text == (
        "Dear support,\n\n"
        "my order 4411 arrived\ndamaged.\n\n"
        "- box torn\n- lid cracked\n\n"
        "Photos: album <https://photos.customer.example/4411>\n\n"
        "Café & more"
    )
    assert "alert" not in record.body_text
    assert "color" not in record.body_text
    assert record.attachments == []


def test_html_lists_links_and_pre() -> None:
    html = (
        "<ol><li>first</li><li>second</li></ol>"
        '<p><a href="mailto:a@x.example">a@x.example</a> '
        '<a href="https://x.example/">https://x.example/</a> '
        '<a href="#top">top</a> <a href="javascript:void(0)">js</a></p>'
        "<pre>  keep   spacing\n  here</pre>"
        "<table><tr><td>a</td><td>b</td></tr></table><p>x&nbsp;y &lt;z&gt;</p>"
    )
    text = html_to_text(html)

    assert "1. first\n2. second" in text
    assert "a@x.example https://x.example/ top js" in text
    assert "  keep   spacing\n  here" in text
    assert "a b" in text
    assert "x\xa0y <z>" in text


def test_plain_preferred_in_alternative() -> None:
    record = parse_fixture("alternative-inline.eml")

    assert record.body_text == "Plain version."
    assert len(record.attachments) == 1


def test_inline_image_has_content_id() -> None:
    record = parse_fixture("alternative-inline.eml")
    image = record.attachments[0]

    assert image.content_type == "image/gif"
    assert image.content_id == "logo@customer.example"
    assert image.inline is True
    assert image.size == 14
    assert attachment_bytes(record.raw, image.part_index) == base64.b64decode(
        "R0lGODlhAQABAAAAACw="
    )


def test_rfc2231_and_rfc2047_file_names() -> None:
    record = parse_fixture("rfc2231-names.eml")

    assert [a.filename for a in record.attachments] == [
        "請求書 2026 final.pdf",
        "résumé.csv",
        "Fotografía 1.png",
        "Präsentation.bin",
    ]
    assert [a.content_type for a in record.attachments] == [
        "application/pdf",
        "text/csv",
        "image/png",
        "application/octet-stream",
    ]
    assert record.body_text == "See the attached files."
    assert RecordFlag.DECODE_REPLACED not in record.flags


def test_attachment_sizes_and_bytes() -> None:
    record = parse_fixture("rfc2231-names.eml")
    pdf, csv, png, binary = record.attachments

    assert (
        attachment_bytes(record.raw, pdf.part_index)
        == b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n"
    )
    assert pdf.size == 19
    assert attachment_bytes(record.raw, csv.part_index) == b"a;b\n1;2"
    assert csv.size == 7
    assert png.size == 8
    assert binary.size == 3
    assert [a.part_index for a in record.attachments] == [2, 3, 4, 5]


def test_attachment_bytes_missing_part() -> None:
    with pytest.raises(IndexError, match="no MIME part 9"):
        attachment_bytes(fixture_bytes("rfc2231-names.eml"), 9)


def test_forwarded_message_kept_with_its_id() -> None:
    record = parse_fixture("forwarded.eml")

    assert record.body_text == "Please look at the message below."
    assert record.forwarded_message_ids == ["original-9@customer.example"]
    assert len(record.attachments) == 1
    forwarded = record.attachments[0]
    assert forwarded.content_type == "message/rfc822"

    enclosed = attachment_bytes(record.raw, forwarded.part_index)
    start = record.raw.index(b"Message-ID: <original-9")
    end = record.raw.index(b"The original text.") + len(b"The original text.")
    assert enclosed == record.raw[start:end]
    assert forwarded.size == len(enclosed)
    reparsed = parse_message(enclosed)
    assert reparsed.message_id == "original-9@customer.example"
    assert reparsed.body_text == "The original text."


def test_headers_only_then_body_pass() -> None:
    raw = fixture_bytes("forwarded.eml")
    record = parse_message(raw, with_body=False, arrival=ARRIVAL)

    assert record.body_parsed is False
    assert record.body_text == ""
    assert record.attachments == []
    assert record.subject == "Fwd: my complaint"
    # Grouping needs the forwarded original's id before the body pass.
    assert record.forwarded_message_ids == ["original-9@customer.example"]

    parse_body(record)

    assert record.body_parsed is True
    assert record.forwarded_message_ids == ["original-9@customer.example"]
    assert record.body_text == "Please look at the message below."
    assert len(record.attachments) == 1


def test_headers_pass_skips_plain_mail_structure() -> None:
    raw = fixture_bytes("rfc2231-names.eml")
    record = parse_message(raw, with_body=False)

    assert record.forwarded_message_ids == []
    assert record.attachments == []


def test_body_pass_uses_channel_encoding() -> None:
    raw = message("Content-Type: text/plain", "") + "Grüße".encode("cp1252")
    record = parse_message(raw, with_body=False)

    parse_body(record, encoding="windows-1252")

    assert record.body_text == "Grüße"


def test_mixed_text_parts_are_joined() -> None:
    raw = message(
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
        "--b\nContent-Type: text/plain\n\nfirst\n"
        "--b\nContent-Type: text/html\n\n<p>second</p>\n--b--\n",
    )
    record = parse_message(raw)

    assert record.body_text == "first\n\nsecond"
    assert record.attachments == []


def test_text_attachment_is_not_body() -> None:
    raw = message(
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
        "--b\nContent-Type: text/plain\n\nhello\n"
        "--b\nContent-Type: text/plain\n"
        "Content-Disposition: attachment; filename=log.txt\n\n"
        "log line\n--b--\n",
    )
    record = parse_message(raw)

    assert record.body_text == "hello"
    assert [(a.filename, a.size) for a in record.attachments] == [("log.txt", 8)]


def test_oversize_keeps_headers_only() -> None:
    raw = fixture_bytes("forwarded.eml")
    record = parse_message(raw, max_size=100, arrival=ARRIVAL)

    assert RecordFlag.OVERSIZE in record.flags
    assert record.size == len(raw)
    assert record.raw == raw
    assert record.subject == "Fwd: my complaint"
    assert record.body_parsed is False
    assert record.body_text == ""

    parse_body(record)

    assert record.body_parsed is False
    assert record.attachments == []


def test_oversize_from_declared_size() -> None:
    headers_only = b"Message-ID: <big@x.example>\nSubject: big\n\n"
    record = parse_message(headers_only, max_size=1000, size=5_000_000)

    assert RecordFlag.OVERSIZE in record.flags
    assert record.size == 5_000_000
    assert record.raw == headers_only


def test_message_at_size_limit_is_parsed() -> None:
    raw = fixture_bytes("forwarded.eml")
    record = parse_message(raw, max_size=len(raw))

    assert RecordFlag.OVERSIZE not in record.flags
    assert record.body_parsed is True


def test_html_meta_charset_used() -> None:
    html = (
        b'<html><head><meta http-equiv="Content-Type" '
        b'content="text/html; charset=iso-8859-1"></head>'
        b"<body><p>Caf\xe9 cr\xe8me</p></body></html>"
    )
    raw = b"Message-ID: <meta@x.example>\nContent-Type: text/html\n\n" + html
    record = parse_message(raw)

    assert record.body_text == "Café crème"
    assert RecordFlag.CHARSET_FALLBACK not in record.flags


def test_nested_forward_bytes_exact_with_crlf() -> None:
    inner = (
        b"Message-ID: <inner@x.example>\r\nSubject:  odd   spacing\r\n"
        b"X-Long: " + b"word " * 40 + b"\r\n\r\ninner body\r\n"
    )
    raw = (
        b"Message-ID: <outer@x.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n'
        b"preamble\r\n--o\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
        b'--o\r\nContent-Type: multipart/alternative; boundary="i"\r\n\r\n'
        b"--i\r\nContent-Type: text/plain\r\n\r\nalt\r\n--i--\r\n"
        b"--o\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--o--\r\n"
    )
    record = parse_message(raw)

    forwarded = [a for a in record.attachments if a.content_type == "message/rfc822"]
    assert len(forwarded) == 1
    assert attachment_bytes(raw, forwarded[0].part_index) == inner
    assert forwarded[0].size == len(inner)
    assert record.forwarded_message_ids == ["inner@x.example"]


def test_byte_order_mark_removed() -> None:
    raw = (
        message("Content-Type: text/plain; charset=utf-8", "") + "\ufeffHallo".encode()
    )
    record = parse_message(raw)

    assert record.body_text == "Hallo"


def test_delivery_status_bytes_exact() -> None:
    record = parse_fixture("bounce-dsn-rfc822.eml")
    status = record.attachments[0]

    expected = (
        b"Reporting-MTA: dns; mx.helpdesk.example\n\n"
        b"Final-Recipient: rfc822; gone@customer.example\n"
        b"Action: failed\nStatus: 5.1.1"
    )
    assert status.content_type == "message/delivery-status"
    assert attachment_bytes(record.raw, status.part_index) == expected
    assert status.size == len(expected)


def test_html_blockquote_prefixed() -> None:
    html = (
        "<p>Thanks, it works now.</p>"
        "<blockquote><p>Did you restart it?<br>Support</p>"
        "<blockquote>It is broken.</blockquote></blockquote><p>Bye</p>"
    )

    assert html_to_text(html) == (
        "Thanks, it works now.\n\n"
        "> Did you restart it?\n> Support\n\n"
        "> > It is broken.\n\n"
        "Bye"
    )
