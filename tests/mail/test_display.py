"""Control characters in mail text, as the console and the CLI print them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sagicc_tui.cli.main import main
from sagicc_tui.mail.display import escape_json_controls, printable

# Every character a terminal may act on instead of drawing.
TERMINAL_CONTROLS = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
TERMINAL_CONTROLS |= {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


@pytest.mark.parametrize(
    ("text", "multiline", "expected"),
    [
        ("plain text", False, "plain text"),
        ("hi \x1b]0;PWNED\x07", False, "hi \\x1b]0;PWNED\\x07"),
        ("\x1b[31mred", True, "\\x1b[31mred"),
        ("nul\x00 del\x7f", False, "nul\\x00 del\\x7f"),
        ("csi\x9b1m", False, "csi\\x9b1m"),
        ("next line\x85", False, "next line\\x85"),
        ("abc\u202edef\u2066", False, "abc\\u202edef\\u2066"),
        ("one\ntwo\tthree", False, "one\\x0atwo\\x09three"),
        ("one\ntwo\tthree", True, "one\ntwo\tthree"),
        ("crlf\r\nline", True, "crlf\nline"),
        ("bare\rreturn", True, "bare\\x0dreturn"),
        ("café 日本 👍", False, "café 日本 👍"),
        ("[bold]not markup[/]", False, "[bold]not markup[/]"),
    ],
)
def test_printable_table(text: str, multiline: bool, expected: str) -> None:
    assert printable(text, multiline=multiline) == expected


def test_printable_idempotent() -> None:
    once = printable("a\x1b[2J\x07\u202e\x9b", multiline=False)
    assert printable(once, multiline=False) == once


def test_printable_leaves_no_controls() -> None:
    every = "".join(sorted(TERMINAL_CONTROLS))
    assert not set(printable(every, multiline=False)) & TERMINAL_CONTROLS
    kept = set(printable(every, multiline=True)) & TERMINAL_CONTROLS
    assert kept == {"\n", "\t"}


def test_escape_json_controls_same_value() -> None:
    value = {"subject": "a\x1b\x7f\x9b\u202eb"}
    document = escape_json_controls(json.dumps(value, ensure_ascii=False))
    assert not set(document) & TERMINAL_CONTROLS
    assert json.loads(document) == value


def hostile_mail() -> bytes:
    """Return a message whose subject, sender, ID and body carry escapes."""
    body = b"line one\r\n\x1b]52;c;ZXZpbA==\x07\x1b[2J\tend\r\n"
    headers = [
        b'From: "Eve \x1b[2J" <eve@mail.example>',
        b"To: support@shop.example",
        b"Subject: hi \x1b]0;PWNED\x07\x1b[31mred \xc2\x9b1m \xe2\x80\xaeabc",
        b"Message-ID: <a\x1b[31m@mail.example>",
        b"Date: Mon, 02 Mar 2026 08:00:00 +0000",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        b"",
        base64.b64encode(body),
    ]
    return b"\r\n".join(headers) + b"\r\n"


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    path = tmp_path / "mail" / "hostile.eml"
    path.parent.mkdir()
    path.write_bytes(hostile_mail())
    return path


def test_inspect_text_escapes_controls(
    hostile_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(hostile_file)]) == 0
    out = capsys.readouterr().out

    assert not set(out) & (TERMINAL_CONTROLS - {"\n", "\t"})
    assert "subject: hi \\x1b]0;PWNED\\x07\\x1b[31mred \\x9b1m \\u202eabc" in out
    assert "from: Eve \\x1b[2J <eve@mail.example>" in out
    assert "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\tend" in out


def test_inspect_json_escapes_controls(
    hostile_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--json", str(hostile_file)]) == 0
    out = capsys.readouterr().out
    fields = json.loads(out)

    assert not set(out) & (TERMINAL_CONTROLS - {"\n"})
    assert fields["subject"] == "hi \x1b]0;PWNED\x07\x1b[31mred \x9b1m \u202eabc"
    assert "\x1b]52;c;" in fields["body_text"]


def test_inspect_binary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "noise.eml"
    path.write_bytes(bytes(range(256)) * 4)

    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out

    assert not set(out) & (TERMINAL_CONTROLS - {"\n", "\t"})


def test_group_text_escapes_controls(
    hostile_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["group", "--mode", "subject", str(hostile_file.parent)]) == 0
    out = capsys.readouterr().out

    assert not set(out) & (TERMINAL_CONTROLS - {"\n"})
    assert "<a\\x1b[31m@mail.example>" in out
    assert "\\x1b]0;pwned\\x07" in out


def test_group_json_escapes_controls(
    hostile_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["group", "--json", "--mode", "thread", str(hostile_file.parent)]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)

    assert not set(out) & (TERMINAL_CONTROLS - {"\n"})
    message = document["tickets"][0]["messages"][0]
    assert message["message_id"] == "a\x1b[31m@mail.example"
