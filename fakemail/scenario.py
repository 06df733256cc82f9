"""Scenario files: the TOML format fakemail replays, read into typed models.

The format is documented in docs/scenarios.md. ``load_scenario`` checks
every table and key and raises ``ScenarioError`` naming the file, the place
and the fix; the models below are what the servers, the timeline and a
replayer read.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakemail.generate import GeneratorSpec
from fakemail.tls import CertificateVariant
from fakemail.tomlcheck import ScenarioError, Table

__all__ = [
    "AccountSpec",
    "ChannelExpectation",
    "ChannelSpec",
    "Expectations",
    "FolderSpec",
    "GeneratorSpec",
    "ListenerSpec",
    "MessageSpec",
    "OutgoingExpectation",
    "ResponderSpec",
    "Scenario",
    "ScenarioError",
    "TicketExpectation",
    "TimelineEvent",
    "bundled_scenario",
    "load_scenario",
]

PROTOCOLS = ("imap", "smtp")
ENCRYPTIONS = ("ssl", "starttls", "none")
TOKEN_STATES = ("valid", "expired", "revoked")
GROUPING_MODES = ("none", "customer", "subject", "thread")
CHANNEL_KINDS = ("incoming", "outgoing")
FAULT_ACTIONS = ("delay", "no", "bad", "bye", "drop", "cut-literal")
FLAG_MODES = ("add", "remove", "set")

# Keys each timeline action reads besides "at" and "action".
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "deliver": ("file", "account", "folder", "name", "flags", "internaldate"),
    "set-flags": ("message", "flags", "mode"),
    "expunge": ("message",),
    "change-uidvalidity": ("account", "folder"),
    "drop-connections": ("listener",),
    "operator-reply": ("name", "message", "body"),
    "responder": ("responder",),
    **{
        action: ("command", "listener", "seconds", "text", "nth", "times")
        for action in FAULT_ACTIONS
    },
}


@dataclass(frozen=True)
class AccountSpec:
    """A mailbox owner; ``tokens`` maps an OAuth access token to its state."""

    username: str
    password: str | None
    tokens: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListenerSpec:
    """One server socket: protocol, encryption and what it leaves out."""

    name: str
    protocol: str
    encryption: str
    certificate: CertificateVariant
    disabled_capabilities: tuple[str, ...] = ()
    login_disabled_before_tls: bool = False
    require_starttls: bool = False
    auth_required: bool = False
    deliver_local: bool = False


@dataclass(frozen=True)
class ChannelSpec:
    """A channel a replay creates; ``settings`` is passed through unchecked.

    ``token`` is the OAuth access token the channel signs in with when
    ``auth`` is ``oauth``. With ``password`` it uses ``password`` when set
    (a scenario's way to simulate a typo), else the account's password.
    """

    name: str
    kind: str
    listener: str
    account: str
    auth: str
    token: str | None
    settings: dict[str, Any]
    password: str | None = None

    @property
    def folder(self) -> str:
        """The folder an incoming channel reads (setting ``folder``, default INBOX)."""
        return str(self.settings.get("folder", "INBOX"))


@dataclass(frozen=True)
class MessageSpec:
    """A message file with the name expectations use, its flags and internal date."""

    name: str
    path: Path
    flags: tuple[str, ...] = ()
    internaldate: datetime.datetime | None = None

    def raw(self) -> bytes:
        return self.path.read_bytes()

    def message_id(self) -> str | None:
        """Return the Message-ID header of the file, or None when it has none."""
        return header_value(self.raw(), "Message-ID")


@dataclass(frozen=True)
class FolderSpec:
    """A folder of one account and the messages it holds when the run starts."""

    account: str
    name: str
    messages: tuple[MessageSpec, ...] = ()
    generate: tuple[GeneratorSpec, ...] = ()


@dataclass(frozen=True)
class TimelineEvent:
    """One timed step; which fields are set depends on ``action``.

    Message names in ``message`` refer to folder messages, earlier
    ``deliver`` steps or responder answers.
    """

    at: float
    action: str
    account: str | None = None
    folder: str | None = None
    message: str | None = None
    file: Path | None = None
    name: str | None = None
    flags: tuple[str, ...] = ()
    mode: str = "add"
    internaldate: datetime.datetime | None = None
    listener: str | None = None
    command: str | None = None
    seconds: float = 0.0
    text: str | None = None
    nth: int | None = None
    times: int | None = 1
    body: str | None = None
    responder: str | None = None


@dataclass(frozen=True)
class ResponderSpec:
    """A customer who answers outgoing mail that matches, after ``delay`` seconds.

    ``recipient`` is a shell-style pattern on the envelope recipients,
    ``subject`` a regular expression searched in the Subject, and
    ``ordinal`` picks the n-th matching message (1-based; None: every one).
    The first answer is named ``answer``; later ones ``answer-2``, ``answer-3``.
    ``subject_prefix`` goes before the answered Subject (``Re: `` unless an
    auto-reply wants ``Automatic reply: ``).
    """

    name: str
    template: Path
    account: str
    folder: str
    delay: float
    answer: str
    recipient: str | None = None
    subject: str | None = None
    ordinal: int | None = None
    subject_prefix: str = "Re: "


@dataclass(frozen=True)
class TicketExpectation:
    """The tickets of ``channel`` under grouping ``mode``, as lists of message names."""

    channel: str
    mode: str
    tickets: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ChannelExpectation:
    """The state a channel must end in and words its error must contain."""

    channel: str
    state: str
    error_contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutgoingExpectation:
    """Header checks for the outgoing message sent for operator reply ``reply``.

    ``in_reply_to`` and ``references`` name messages; a checker compares
    their Message-IDs with the headers of the sent message.
    """

    reply: str
    in_reply_to: str | None = None
    references: tuple[str, ...] | None = None
    subject: str | None = None
    to: tuple[str, ...] | None = None
    cc: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Expectations:
    tickets: tuple[TicketExpectation, ...] = ()
    channels: tuple[ChannelExpectation, ...] = ()
    outgoing: tuple[OutgoingExpectation, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A whole scenario file, checked and with paths made absolute."""

    path: Path
    name: str
    description: str
    accounts: tuple[AccountSpec, ...]
    listeners: tuple[ListenerSpec, ...]
    channels: tuple[ChannelSpec, ...]
    folders: tuple[FolderSpec, ...]
    timeline: tuple[TimelineEvent, ...]
    responders: tuple[ResponderSpec, ...]
    expect: Expectations
    seed: int = 1
    duration: float | None = None
    # Move every message's Date to the run's own time, so a demo's mail
    # looks new and sorts by arrival.
    redate: bool = False

    @property
    def directory(self) -> Path:
        return self.path.parent

    def listener(self, name: str) -> ListenerSpec:
        return _find(self.listeners, name, "listener")

    def channel(self, name: str) -> ChannelSpec:
        return _find(self.channels, name, "channel")

    def account(self, username: str) -> AccountSpec:
        for account in self.accounts:
            if account.username.casefold() == username.casefold():
                return account
        raise KeyError(f"no account {username!r} in scenario {self.name!r}")

    def responder(self, name: str) -> ResponderSpec:
        return _find(self.responders, name, "responder")

    def run_length(self) -> float:
        """Return the scenario seconds a replay runs: ``duration``, else an estimate.

        The estimate is the last timeline step plus the longest responder
        delay plus 10 seconds for the product to pick up the last message.
        """
        if self.duration is not None:
            return self.duration
        last = max((event.at for event in self.timeline), default=0.0)
        delay = max((responder.delay for responder in self.responders), default=0.0)
        return last + delay + 10.0

    def grouping_modes(self) -> list[str]:
        """Return the grouping modes the expectations cover, in a fixed order."""
        modes = {expectation.mode for expectation in self.expect.tickets}
        return [mode for mode in GROUPING_MODES if mode in modes]

    def expected_tickets(self, channel: str, mode: str) -> list[tuple[str, ...]] | None:
        """Return the tickets expected for ``channel`` in ``mode``, or None.

        Tickets of generated mailboxes in the channel's folder are added to
        the hand-written ones; they are known by construction.
        """
        tickets: list[tuple[str, ...]] | None = None
        for expectation in self.expect.tickets:
            if expectation.channel == channel and expectation.mode == mode:
                tickets = list(expectation.tickets)
        spec = self.channel(channel)
        for folder in self.folders:
            same_account = folder.account.casefold() == spec.account.casefold()
            if not same_account or folder.name != spec.folder:
                continue
            for generator in folder.generate:
                tickets = (tickets or []) + generator.expected_tickets(mode)
        return tickets


def _find(items: tuple[Any, ...], name: str, kind: str) -> Any:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {kind} named {name!r}")


def header_value(raw: bytes, name: str) -> str | None:
    """Return one header of a raw message without parsing its body."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    pattern = re.compile(
        rb"^" + re.escape(name.encode()) + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)",
        re.IGNORECASE | re.MULTILINE,
    )
    match = pattern.search(head)
    if match is None:
        return None
    return re.sub(r"\s+", " ", match.group(1).decode("utf-8", "replace")).strip()


def message_date(raw: bytes) -> datetime.datetime | None:
    """Return the Date header as an aware date-time, or None when unusable."""
    value = header_value(raw, "Date")
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


_DATE_FIELD = re.compile(rb"(?im)^Date:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")


def replace_date(raw: bytes, when: datetime.datetime) -> bytes:
    """Return ``raw`` with its Date header set to ``when``; no Date stays none.

    Only the header section is touched, so a quoted "Date:" line in the body
    or in a forwarded message keeps its value.
    """
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    head, body = (raw, b"") if end < 0 else (raw[:end], raw[end:])
    value = email.utils.format_datetime(when.astimezone(datetime.UTC))
    head = _DATE_FIELD.sub(b"Date: " + value.encode("ascii"), head, count=1)
    return head + body


# NOTE: scenarios/ sits next to the fakemail package in the source tree; a
# wheel built from pyproject.toml does not ship it yet.
BUNDLED_SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def bundled_scenario(name: str) -> Path:
    """Return the folder of the bundled scenario ``name`` (``demo``, ``basic``...)."""
    path = BUNDLED_SCENARIOS / name
    if not (path / "scenario.toml").is_file():
        known = sorted(p.parent.name for p in BUNDLED_SCENARIOS.glob("*/scenario.toml"))
        raise ScenarioError(
            f"no bundled scenario {name!r} in {BUNDLED_SCENARIOS}; "
            f"choose one of {', '.join(known) or 'none (the folder is missing)'}"
        )
    return path


def load_scenario(path: Path | str) -> Scenario:
    """Read and check the scenario file ``path``; raise ScenarioError when invalid."""
    from fakemail.scenario_reader import read_scenario

    path = Path(path).resolve()
    if path.is_dir():
        path = path / "scenario.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(
            f"{path}: scenario file not found; give the path of a scenario.toml "
            "or of the folder that holds it"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: invalid TOML: {error}") from None
    return read_scenario(Table(path, "top level", data))
