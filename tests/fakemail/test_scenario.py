"""Reading scenario files: the bundled ones, and errors that name the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakemail.scenario import ScenarioError, bundled_scenario, load_scenario
from tests.fakemail.conftest import SCENARIOS, write_scenario

MINIMAL = """
[[accounts]]
username = "support@example.test"
password = "pw"
tokens = { "tok" = "valid", "old" = "expired" }

[[listeners]]
name = "imap"
protocol = "imap"
encryption = "starttls"

[[listeners]]
name = "smtp"
protocol = "smtp"
encryption = "ssl"
certificate = "expired"

[[folders]]
messages = [{ file = "one.eml", flags = ["\\\\Seen"] }]
"""

ONE = "From: a@example.org\nSubject: one\nMessage-ID: <one@example.org>\n\nbody\n"


def _load(tmp_path: Path, extra: str = "", text: str | None = None):
    path = write_scenario(
        tmp_path,
        MINIMAL + extra if text is None else text,
        {
            "one.eml": ONE,
            "two.eml": ONE.replace("one", "two"),
        },
    )
    return load_scenario(path)


def test_minimal_scenario_reads(tmp_path: Path) -> None:
    scenario = _load(tmp_path)
    assert scenario.name == tmp_path.name
    assert scenario.listener("smtp").certificate.value == "expired"
    assert scenario.accounts[0].tokens == {"tok": "valid", "old": "expired"}
    [message] = scenario.folders[0].messages
    assert message.name == "one"
    assert message.flags == ("\\Seen",)
    assert message.message_id() == "<one@example.org>"


def test_folder_path_loads_scenario_toml(tmp_path: Path) -> None:
    _load(tmp_path)
    assert load_scenario(tmp_path).path == tmp_path / "scenario.toml"


def test_timeline_sorted_by_time(tmp_path: Path) -> None:
    scenario = _load(
        tmp_path,
        """
[[timeline]]
at = 20
action = "expunge"
message = "one"

[[timeline]]
at = 5
action = "deliver"
file = "two.eml"

[[timeline]]
at = 5
action = "no"
command = "uid  fetch"
text = "[UNAVAILABLE] try later"
times = "always"
""",
    )
    actions = [(event.at, event.action) for event in scenario.timeline]
    assert actions == [(5.0, "deliver"), (5.0, "no"), (20.0, "expunge")]
    assert scenario.timeline[1].command == "UID FETCH"
    assert scenario.timeline[1].times is None


def test_channel_settings_pass_through(tmp_path: Path) -> None:
    scenario = _load(
        tmp_path,
        """
[[channels]]
name = "Support"
kind = "incoming"
listener = "imap"
grouping = "subject"
reopen_window_days = 3
validate_certificates = false
after_import = { action = "move", folder = "Done" }
""",
    )
    channel = scenario.channel("Support")
    assert channel.account == "support@example.test"
    assert channel.auth == "password"
    assert channel.settings == {
        "grouping": "subject",
        "reopen_window_days": 3,
        "validate_certificates": False,
        "after_import": {"action": "move", "folder": "Done"},
    }
    assert channel.folder == "INBOX"


IN_CHANNEL = '\n[[channels]]\nname = "In"\nkind = "incoming"\nlistener = "imap"\n'
BYE_ON_SMTP = (
    '\n[[timeline]]\nat = 1\naction = "bye"\ncommand = "DATA"\nlistener = "smtp"\n'
)

BAD_CASES = [
    (
        "bad-encryption",
        MINIMAL.replace('encryption = "starttls"', 'encryption = "tls"'),
        [
            "[[listeners]] #1 (name 'imap'), key 'encryption'",
            "'tls'",
            "ssl, starttls, none",
        ],
    ),
    (
        "unknown-key",
        MINIMAL.replace('protocol = "imap"', 'protocol = "imap"\nports = 1'),
        ["key 'ports'", "unknown key"],
    ),
    (
        "missing-file",
        MINIMAL.replace("one.eml", "missing.eml"),
        ["[[folders]] #1", "[[folders.messages]] #1", "'missing.eml' not found"],
    ),
    (
        "bad-certificate",
        MINIMAL.replace('certificate = "expired"', 'certificate = "bogus"'),
        ["key 'certificate'", "valid, self-signed, expired, wrong-host"],
    ),
    (
        "bad-token-state",
        MINIMAL.replace('"old" = "expired"', '"old" = "stale"'),
        ["key 'old'", "valid, expired, revoked"],
    ),
    (
        "no-accounts",
        MINIMAL.split("[[listeners]]", 1)[1].join(["[[listeners]]", ""]),
        ["key 'accounts'", "add at least one [[accounts]]"],
    ),
    (
        "duplicate-name",
        MINIMAL + '\n[[timeline]]\nat = 1\naction = "deliver"\nfile = "one.eml"\n',
        ["[[timeline]] #1", "'one' is used twice"],
    ),
    (
        "unknown-message",
        MINIMAL + '\n[[timeline]]\nat = 1\naction = "expunge"\nmessage = "nope"\n',
        ["key 'message'", "unknown message name 'nope'"],
    ),
    (
        "negative-time",
        MINIMAL + '\n[[timeline]]\nat = -1\naction = "drop-connections"\n',
        ["key 'at'", "use 0 or more"],
    ),
    (
        "unknown-action",
        MINIMAL + '\n[[timeline]]\nat = 1\naction = "explode"\n',
        ["key 'action'", "deliver, set-flags"],
    ),
    (
        "smtp-cut-literal",
        MINIMAL + BYE_ON_SMTP.replace('"bye"', '"cut-literal"'),
        ["key 'action'", "IMAP listeners only"],
    ),
    (
        "smtp-unknown-command",
        MINIMAL + BYE_ON_SMTP.replace('"DATA"', '"FETCH"'),
        ["key 'command'", "'FETCH'", "MAIL, RCPT, DATA"],
    ),
    (
        "oauth-without-token",
        MINIMAL + IN_CHANNEL + 'auth = "oauth"\n',
        ["[[channels]] #1 (name 'In'), key 'token'", "'old', 'tok'"],
    ),
    (
        "wrong-listener-kind",
        MINIMAL
        + '\n[[channels]]\nname = "Out"\nkind = "outgoing"\nlistener = "imap"\n',
        ["key 'listener'", "needs an smtp listener"],
    ),
    (
        "bad-grouping",
        MINIMAL + IN_CHANNEL + 'grouping = "topic"\n',
        ["key 'grouping'", "'topic'"],
    ),
    (
        "bad-expect-mode",
        MINIMAL
        + IN_CHANNEL
        + '\n[[expect.tickets]]\nmode = "thread"\ntickets = [["one", "ghost"]]\n',
        ["[expect] [[expect.tickets]] #1, key 'tickets'", "'ghost'"],
    ),
    (
        "bad-subject-pattern",
        MINIMAL + '\n[[expect.outgoing]]\nreply = "one"\nsubject = "Re: (Order"\n',
        [
            "[expect] [[expect.outgoing]] #1, key 'subject'",
            "invalid regular expression",
        ],
    ),
    (
        "bad-toml",
        MINIMAL + "\n[[timeline]\n",
        ["invalid TOML"],
    ),
    (
        "naive-date",
        MINIMAL.replace('flags = ["\\\\Seen"]', "internaldate = 2026-03-02T09:00:00"),
        ["key 'internaldate'", "offset date-time"],
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "words"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_invalid_scenario_error_names_fix(
    tmp_path: Path, case: str, text: str, words: list[str]
) -> None:
    with pytest.raises(ScenarioError) as caught:
        _load(tmp_path, text=text)
    message = str(caught.value)
    assert str(tmp_path / "scenario.toml") in message
    for word in words:
        assert word in message


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "nothing")


@pytest.mark.parametrize(
    "path", sorted(SCENARIOS.glob("*/scenario.toml")), ids=lambda p: p.parent.name
)
def test_bundled_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.accounts
    assert scenario.listeners


def test_basic_expectations_cover_every_mode() -> None:
    scenario = load_scenario(SCENARIOS / "basic")
    assert scenario.grouping_modes() == ["none", "customer", "subject", "thread"]
    names = {m.name for folder in scenario.folders for m in folder.messages}
    names |= {e.name for e in scenario.timeline if e.name}
    names |= {r.answer for r in scenario.responders}
    for mode in scenario.grouping_modes():
        tickets = scenario.expected_tickets("Support", mode)
        assert tickets is not None
        listed = [name for ticket in tickets for name in ticket]
        assert sorted(listed) == sorted(names), mode


def test_bundled_scenario_lookup() -> None:
    assert bundled_scenario("demo") == SCENARIOS / "demo"
    with pytest.raises(ScenarioError, match="choose one of .*basic.*demo"):
        bundled_scenario("nope")


def test_generated_expectation_needs_no_list() -> None:
    scenario = load_scenario(SCENARIOS / "large")
    assert scenario.grouping_modes() == ["none", "customer", "subject", "thread"]
    [expectation, *_] = scenario.expect.tickets
    assert expectation.tickets == ()
    none_tickets = scenario.expected_tickets("Bulk", "none")
    assert none_tickets is not None
    assert len(none_tickets) == 10000
