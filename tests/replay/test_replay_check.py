"""sagicc replay --check: passes on bundled scenarios, fails on wrong expectations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import tomlkit

from fakemail.scenario import load_scenario
from sagicc_tui.cli.main import main
from sagicc_tui.replay import ReplayOptions, check_run, replay_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BASIC = SCENARIOS / "basic"


def _edited_copy(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """Copy the basic scenario, apply ``edit`` to its TOML document, return the copy."""
    copy = tmp_path / "basic-copy"
    shutil.copytree(BASIC, copy)
    path = copy / "scenario.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return copy


def _only_thread(document) -> None:  # type: ignore[no-untyped-def]
    tickets = document["expect"]["tickets"]
    for index in reversed(range(len(tickets))):
        if tickets[index]["mode"] != "thread":
            del tickets[index]


def test_basic_passes_every_mode(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(BASIC), "--check", "--json"])

    report = json.loads(capsys.readouterr().out)
    assert report["differences"] == []
    assert report["passed"] is True
    assert code == 0
    modes = [run["mode"] for run in report["runs"]]
    assert modes == load_scenario(BASIC).grouping_modes()
    assert modes == ["none", "customer", "subject", "thread"]


def test_basic_reply_answer_in_one_ticket(capsys: pytest.CaptureFixture[str]) -> None:
    main(["replay", str(BASIC), "--json"])

    [run] = json.loads(capsys.readouterr().out)["runs"]
    erin = [
        ticket
        for ticket in run["tickets"]["Support"]
        if any(m["name"] == "09-erin-refund" for m in ticket["messages"])
    ]
    assert [m["name"] for m in erin[0]["messages"]] == [
        "09-erin-refund",
        "reply-erin",
        "erin-answer",
    ]
    reply = run["outgoing"]["reply-erin"]
    assert reply["received"] is True
    assert reply["to"] == ["erin@customer.example"]


def test_wrong_ticket_expectation_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def split_answer(document) -> None:  # type: ignore[no-untyped-def]
        _only_thread(document)
        groups = document["expect"]["tickets"][0]["tickets"]
        groups[-1] = ["09-erin-refund", "reply-erin"]
        groups.append(["erin-answer"])

    copy = _edited_copy(tmp_path, split_answer)

    code = main(["replay", str(copy), "--check"])

    out = capsys.readouterr().out
    assert code == 1
    assert "DIFFERENCE [thread] tickets Support (thread)" in out
    assert "expected: one ticket [erin-answer]" in out
    # The reason the store recorded shows why the answer joined the ticket.
    assert "erin-answer: In-Reply-To <sagicc." in out
    assert "scenario basic: 2 difference(s)" in out


def test_wrong_outgoing_expectation_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def wrong_headers(document) -> None:  # type: ignore[no-untyped-def]
        _only_thread(document)
        outgoing = document["expect"]["outgoing"][0]
        outgoing["subject"] = "^Re: Something else"
        outgoing["to"] = ["someone@customer.example"]
        outgoing["in_reply_to"] = "01-alice-order"

    copy = _edited_copy(tmp_path, wrong_headers)

    code = main(["replay", str(copy), "--check", "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["passed"] is False
    subjects = sorted(d["subject"] for d in report["differences"])
    assert subjects == [
        "reply-erin In-Reply-To",
        "reply-erin Subject",
        "reply-erin To",
    ]


FAILURES = [
    "starttls-missing",
    "wrong-password",
    "expired-token",
    "bad-certificate",
    "drop-mid-fetch",
    "uidvalidity-change",
]


@pytest.mark.parametrize("name", FAILURES)
async def test_failure_scenario_matches(name: str) -> None:
    scenario = load_scenario(SCENARIOS / name)
    modes: list[str | None] = list(scenario.grouping_modes()) or [None]

    snapshots = await replay_scenario(scenario, modes, ReplayOptions())

    for snapshot in snapshots:
        assert check_run(scenario, snapshot) == []
        for expectation in scenario.expect.channels:
            state = snapshot.states[expectation.channel]
            assert state.state == expectation.state
            for word in expectation.error_contains:
                assert word.lower() in state.error.lower()


async def test_wrong_error_words_fail() -> None:
    scenario = load_scenario(SCENARIOS / "wrong-password")
    expectation = scenario.expect.channels[0]
    wrong = type(expectation)(expectation.channel, "idle", ("STARTTLS",))
    scenario = type(scenario)(
        **{
            **scenario.__dict__,
            "expect": type(scenario.expect)(channels=(wrong,)),
        }
    )

    [snapshot] = await replay_scenario(scenario, [None], ReplayOptions())

    differences = check_run(scenario, snapshot)
    assert [d.subject for d in differences] == ["Support state", "Support error"]
    assert differences[0].expected == "idle"
    assert differences[0].actual.startswith("failed")
    assert "'STARTTLS'" in differences[1].expected


def test_missing_scenario_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nowhere")]) == 2

    assert "scenario file not found" in capsys.readouterr().err


def test_speed_run_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = _edited_copy(tmp_path, _only_thread)

    code = main(["replay", str(copy), "--check", "--speed", "20"])

    assert "scenario basic: passed" in capsys.readouterr().out
    assert code == 0


def test_invalid_speed_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(BASIC), "--speed", "0"]) == 2

    assert "invalid --speed 0" in capsys.readouterr().err


def test_keep_folder_must_be_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "earlier").mkdir()

    assert main(["replay", str(BASIC), "--keep", str(keep)]) == 2

    assert "is not empty" in capsys.readouterr().err


def test_keep_folder_holds_run_home(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = tmp_path / "keep"

    assert main(["replay", str(SCENARIOS / "wrong-password"), "--keep", str(keep)]) == 0

    home = keep / "channels"
    assert (home / "config" / "config.toml").is_file()
    assert (home / "data" / "store.sqlite3").is_file()
    log = (home / "log" / "sagicc.log").read_text(encoding="utf-8")
    assert "AUTHENTICATIONFAILED" in log
    assert "not-the-password" not in log
