"""``sagicc group``: the tickets and reasons it prints for fixture mailboxes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagicc_tui.cli.main import main
from tests.tickets.helpers import FIXTURES

OWN = ["--own-address", "help@help.example.com"]


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    exit_code = main(["group", "--json", *args])
    captured = capsys.readouterr()
    assert exit_code == 0, captured.err
    return json.loads(captured.out)


def test_chain_thread_json(capsys: pytest.CaptureFixture[str]) -> None:
    folder = FIXTURES / "chain"
    document = run_json(capsys, "--mode", "thread", str(folder), *OWN)

    def entry(name: str, message_id: str, reason: str) -> dict:
        return {
            "source": str(folder / f"{name}.eml"),
            "message_id": message_id,
            "reason": reason,
        }

    new = "no header, Thread-Index or tag links to a ticket: new ticket"
    assert document == {
        "tickets": [
            {
                "number": 1,
                "messages": [
                    entry("01-question", "a1@customer.example", new),
                    entry(
                        "02-our-reply",
                        "r1@help.example.com",
                        "In-Reply-To <a1@customer.example> matches a message "
                        "in ticket #1",
                    ),
                    entry(
                        "03-customer-answer",
                        "a3@customer.example",
                        "In-Reply-To <r1@help.example.com> matches a message "
                        "in ticket #1",
                    ),
                    entry(
                        "04-colleague-forward",
                        "b4@customer.example",
                        "forwarded message <a1@customer.example> matches a "
                        "message in ticket #1",
                    ),
                ],
            },
            {
                "number": 2,
                "messages": [entry("05-other-customer", "c5@other.example", new)],
            },
        ]
    }


def test_mbox_has_index(capsys: pytest.CaptureFixture[str]) -> None:
    mbox = str(FIXTURES / "mbox" / "login.mbox")
    document = run_json(capsys, "--mode", "thread", mbox)

    placed = [
        [(m["source"], m["index"], m["message_id"]) for m in ticket["messages"]]
        for ticket in document["tickets"]
    ]
    assert [t["number"] for t in document["tickets"]] == [1, 2]
    assert placed == [
        [(mbox, 0, "m-reply@customer.example"), (mbox, 1, "m-parent@customer.example")],
        [(mbox, 2, "m-other@other.example")],
    ]


def test_sort_by_date(capsys: pytest.CaptureFixture[str]) -> None:
    mbox = str(FIXTURES / "mbox" / "login.mbox")
    document = run_json(capsys, "--mode", "thread", "--sort", "date", mbox)

    placed = [[m["index"] for m in t["messages"]] for t in document["tickets"]]
    assert placed == [[2], [1, 0]]


def test_single_file_has_no_index(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "chain" / "01-question.eml"
    document = run_json(capsys, "--mode", "none", str(path))

    (message,) = document["tickets"][0]["messages"]
    assert "index" not in message
    assert message["source"] == str(path)


def test_several_paths_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    first = FIXTURES / "reply_first" / "02-parent.eml"
    second = FIXTURES / "reply_first" / "01-reply.eml"
    document = run_json(capsys, "--mode", "thread", str(first), str(second))

    (ticket,) = document["tickets"]
    assert [m["message_id"] for m in ticket["messages"]] == [
        "d-parent@customer.example",
        "d-reply@customer.example",
    ]


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(["group", "--mode", "thread", str(FIXTURES / "tags")])
    output = capsys.readouterr().out

    assert exit_code == 0
    assert "Ticket #1 (2 messages)" in output
    assert "Ticket #2 (1 message)" in output
    assert "joined: subject tag [#1] from participant heidi@customer.example" in output
    assert "tag [#1] ignored because mallory@attacker.example" in output
    assert output.rstrip().endswith("5 messages, 4 tickets")


def test_tag_prefix_option(capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(FIXTURES / "tags")
    document = run_json(capsys, "--mode", "thread", "--tag-prefix", "ACME", folder)

    assert len(document["tickets"]) == 5


def test_not_ticketed_listed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    loop = tmp_path / "loop.eml"
    loop.write_bytes(
        b"From: help@help.example.com\r\nTo: help@help.example.com\r\n"
        b"Subject: Loop\r\nMessage-ID: <loop@help.example.com>\r\n\r\nx\r\n"
    )
    document = run_json(capsys, "--mode", "thread", str(loop), *OWN)

    assert document["tickets"] == []
    (message,) = document["not_ticketed"]
    assert message["message_id"] == "loop@help.example.com"
    assert "mail loop" in message["reason"]


def test_missing_path_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    exit_code = main(["group", "--mode", "thread", str(missing)])
    captured = capsys.readouterr()

    assert exit_code == 2
    assert str(missing) in captured.err
    assert captured.out == ""


def test_unknown_encoding_fails(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "chain")
    exit_code = main(["group", "--mode", "thread", "--encoding", "klingon", path])
    captured = capsys.readouterr()

    assert exit_code == 2
    assert "unknown encoding 'klingon'" in captured.err


def test_invalid_mode_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["group", "--mode", "threads", str(FIXTURES / "chain")])

    assert exit_info.value.code == 2
    assert "invalid choice: 'threads'" in capsys.readouterr().err


FOLDERS = [
    "chain",
    "reply_first",
    "thread_index",
    "tags",
    "prefix",
    "auto",
    "list",
    "own_copy",
]


@pytest.mark.parametrize("mode", ["none", "customer", "subject", "thread"])
def test_store_matches_memory(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    for folder in FOLDERS:
        path = str(FIXTURES / folder)
        in_memory = run_json(capsys, "--mode", mode, path, *OWN)
        in_store = run_json(capsys, "--mode", mode, "--store", path, *OWN)

        assert in_store == in_memory, f"{folder} in mode {mode}"
