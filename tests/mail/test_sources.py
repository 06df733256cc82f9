"""Mailbox sources: .eml files, folders, mbox and maildir."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagicc_tui.mail.sources import MailSourceError, iter_messages

ONE = b"Message-ID: <one@x.example>\nDate: Thu, 03 Dec 2026 10:00:00 +0000\n\nfirst\n"
TWO = b"Message-ID: <two@x.example>\nDate: Tue, 01 Dec 2026 10:00:00 +0000\n\nsecond\n"
THREE = b"Message-ID: <three@x.example>\n\nno date\n"


def test_single_eml_file(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(ONE)

    messages = list(iter_messages([path]))

    assert [(m.source, m.index, m.raw) for m in messages] == [(path, None, ONE)]


def test_eml_folder_sorted_by_name(tmp_path: Path) -> None:
    (tmp_path / "b.eml").write_bytes(TWO)
    (tmp_path / "a.eml").write_bytes(ONE)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.eml").write_bytes(THREE)
    (tmp_path / "notes.txt").write_bytes(b"not mail")

    messages = list(iter_messages([tmp_path]))

    assert [m.raw for m in messages] == [ONE, TWO, THREE]
    assert all(m.index is None for m in messages)


def test_mbox_split_keeps_bytes(tmp_path: Path) -> None:
    body_with_from = (
        b"Message-ID: <q@x.example>\n\nline\nFrom here on, text\n>From quoted\n"
    )
    crlf = b"Message-ID: <crlf@x.example>\r\n\r\nwindows\r\n"
    mbox = (
        b"From a@x.example Thu Dec  3 10:00:00 2026\n" + ONE + b"\n"
        b"From b@x.example Thu Dec  3 10:01:00 2026\n" + body_with_from + b"\n"
        b"From c@x.example Thu Dec  3 10:02:00 2026\r\n" + crlf + b"\r\n"
        b"From d@x.example Thu Dec  3 10:03:00 2026\n" + TWO
    )
    path = tmp_path / "inbox.mbox"
    path.write_bytes(mbox)

    messages = list(iter_messages([path]))

    # "From here on" follows a text line, not an empty one: no split there.
    assert [m.raw for m in messages] == [ONE, body_with_from, crlf, TWO]
    assert [m.index for m in messages] == [0, 1, 2, 3]
    assert all(m.source == path for m in messages)


def test_mbox_without_suffix_detected(tmp_path: Path) -> None:
    path = tmp_path / "Inbox"
    path.write_bytes(b"From a@x.example Thu Dec  3 10:00:00 2026\n" + ONE)

    assert [m.raw for m in iter_messages([path])] == [ONE]


def test_maildir_cur_and_new(tmp_path: Path) -> None:
    for folder in ("cur", "new", "tmp"):
        (tmp_path / folder).mkdir()
    (tmp_path / "new" / "1700000002.M1.host").write_bytes(TWO)
    (tmp_path / "cur" / "1700000001.M1.host:2,S").write_bytes(ONE)
    (tmp_path / "tmp" / "1700000003.M1.host").write_bytes(THREE)
    (tmp_path / "cur" / ".hidden").write_bytes(b"x")

    messages = list(iter_messages([tmp_path]))

    assert [m.raw for m in messages] == [ONE, TWO]
    assert messages[0].source == tmp_path / "cur" / "1700000001.M1.host:2,S"


def test_sort_by_date(tmp_path: Path) -> None:
    for name, raw in (("a.eml", ONE), ("b.eml", THREE), ("c.eml", TWO)):
        (tmp_path / name).write_bytes(raw)

    by_date = [m.raw for m in iter_messages([tmp_path], sort="date")]

    assert by_date == [TWO, ONE, THREE]


def test_paths_keep_their_order(tmp_path: Path) -> None:
    (tmp_path / "z.eml").write_bytes(ONE)
    (tmp_path / "a.eml").write_bytes(TWO)

    messages = list(iter_messages([tmp_path / "z.eml", tmp_path / "a.eml"]))

    assert [m.raw for m in messages] == [ONE, TWO]


def test_missing_path_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mbox"

    with pytest.raises(MailSourceError, match="nope.mbox: no such file or folder"):
        list(iter_messages([missing]))


def test_unknown_format_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 JFIF")

    with pytest.raises(MailSourceError, match="photo.jpg: not an .eml message"):
        list(iter_messages([path]))


def test_folder_without_mail_error(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_bytes(b"hello")

    with pytest.raises(MailSourceError, match="no .eml files"):
        list(iter_messages([tmp_path]))


def test_invalid_sort_order(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid sort order 'size'"):
        list(iter_messages([tmp_path], sort="size"))  # type: ignore[arg-type]
