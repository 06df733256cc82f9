"""Check the tables of a scenario file and build the models of fakemail.scenario."""

from __future__ import annotations

import re
from pathlib import Path

from fakemail.generate import read_generator
from fakemail.scenario import (
    ACTION_KEYS,
    CHANNEL_KINDS,
    ENCRYPTIONS,
    FAULT_ACTIONS,
    FLAG_MODES,
    GROUPING_MODES,
    PROTOCOLS,
    TOKEN_STATES,
    AccountSpec,
    ChannelExpectation,
    ChannelSpec,
    Expectations,
    FolderSpec,
    ListenerSpec,
    MessageSpec,
    OutgoingExpectation,
    ResponderSpec,
    Scenario,
    TicketExpectation,
    TimelineEvent,
)
from fakemail.smtp import FAULT_COMMANDS as SMTP_FAULT_COMMANDS
from fakemail.tls import CertificateVariant
from fakemail.tomlcheck import ScenarioError, Table

_CHANNEL_KEYS = ("name", "kind", "listener", "account", "auth", "token", "password")


def read_scenario(top: Table) -> Scenario:
    """Build a Scenario from the top-level table, checking every reference."""
    header = top.table("scenario")
    name = top.source.parent.name
    description = ""
    seed = 1
    duration = None
    redate = False
    if header is not None:
        name = header.string("name", name)
        description = header.string("description", "")
        seed = header.integer("seed", 1)
        duration = header.number("duration", None)
        redate = header.boolean("redate", False)
        header.finish()

    accounts = tuple(_read_account(table) for table in top.tables("accounts"))
    if not accounts:
        raise top.error("accounts", "missing; add at least one [[accounts]] table")
    _check_unique(top, "accounts", [a.username.casefold() for a in accounts])

    listeners = tuple(_read_listener(table) for table in top.tables("listeners"))
    _check_unique(top, "listeners", [listener.name for listener in listeners])
    context = _Context(top.source.parent, accounts, listeners)

    channels = tuple(_read_channel(t, context) for t in top.tables("channels"))
    _check_unique(top, "channels", [channel.name for channel in channels])
    folders = tuple(_read_folder(t, context) for t in top.tables("folders"))
    responders = tuple(_read_responder(t, context) for t in top.tables("responders"))
    _check_unique(top, "responders", [r.name for r in responders])
    context.names.update(r.answer for r in responders)
    context.responders = {r.name for r in responders}

    events = [_read_event(t, context) for t in top.tables("timeline")]
    # A stable sort keeps the file order of steps due at the same second.
    timeline = tuple(sorted(events, key=lambda event: event.at))

    expect_table = top.table("expect")
    expect = Expectations()
    if expect_table is not None:
        expect = _read_expectations(expect_table, context, channels)
    top.finish()
    return Scenario(
        path=top.source,
        name=name,
        description=description,
        accounts=accounts,
        listeners=listeners,
        channels=channels,
        folders=folders,
        timeline=timeline,
        responders=responders,
        expect=expect,
        seed=seed,
        duration=duration,
        redate=redate,
    )


class _Context:
    """Registry of what later tables may refer to: files, accounts, listeners, names."""

    def __init__(
        self,
        directory: Path,
        accounts: tuple[AccountSpec, ...],
        listeners: tuple[ListenerSpec, ...],
    ) -> None:
        self.directory = directory
        self.accounts = {a.username.casefold(): a for a in accounts}
        self.listeners = {listener.name: listener for listener in listeners}
        self.names: set[str] = set()
        self.responders: set[str] = set()

    def file(self, table: Table, key: str) -> Path:
        relative = table.string(key)
        path = (self.directory / relative).resolve()
        if not path.is_file():
            raise table.error(
                key, f"file {relative!r} not found next to the scenario ({path})"
            )
        return path

    def account(self, table: Table, key: str = "account") -> str:
        if not table.has(key) and len(self.accounts) == 1:
            table.raw(key, None)
            return next(iter(self.accounts.values())).username
        username = table.string(key)
        account = self.accounts.get(username.casefold())
        if account is None:
            known = ", ".join(a.username for a in self.accounts.values())
            raise table.error(key, f"unknown account {username!r}; known: {known}")
        return account.username

    def listener(self, table: Table, key: str = "listener") -> ListenerSpec:
        name = table.string(key)
        if name not in self.listeners:
            known = ", ".join(self.listeners) or "none"
            raise table.error(key, f"unknown listener {name!r}; known: {known}")
        return self.listeners[name]

    def new_name(self, table: Table, key: str, name: str) -> str:
        if name in self.names:
            raise table.error(key, f"message name {name!r} is used twice; rename one")
        self.names.add(name)
        return name

    def known_name(self, table: Table, key: str, name: str) -> str:
        if name not in self.names:
            raise table.error(
                key,
                f"unknown message name {name!r}: name a folder message, a "
                "deliver step, an operator reply or a responder answer",
            )
        return name


def _check_unique(top: Table, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise top.error(key, f"{name!r} is defined twice; names must be unique")
        seen.add(name)


def _read_account(table: Table) -> AccountSpec:
    username = table.string("username")
    password = table.string("password", None)
    tokens_table = table.table("tokens")
    tokens: dict[str, str] = {}
    if tokens_table is not None:
        for token in list(tokens_table.data):
            tokens[token] = tokens_table.string(token, choices=TOKEN_STATES)
        tokens_table.finish()
    table.finish()
    return AccountSpec(username, password, tokens)


def _read_listener(table: Table) -> ListenerSpec:
    name = table.string("name")
    table.where += f" (name {name!r})"
    protocol = table.string("protocol", choices=PROTOCOLS)
    encryption = table.string("encryption", choices=ENCRYPTIONS)
    certificate = table.string(
        "certificate", "valid", choices=[v.value for v in CertificateVariant]
    )
    listener = ListenerSpec(
        name=name,
        protocol=protocol,
        encryption=encryption,
        certificate=CertificateVariant(certificate),
        disabled_capabilities=tuple(
            c.upper() for c in table.strings("disabled_capabilities", ())
        ),
        login_disabled_before_tls=table.boolean("login_disabled_before_tls", False),
        require_starttls=table.boolean("require_starttls", False),
        auth_required=table.boolean("auth_required", False),
        deliver_local=table.boolean("deliver_local", False),
    )
    if listener.require_starttls and encryption != "starttls":
        raise table.error(
            "require_starttls", "only a starttls listener can require STARTTLS"
        )
    if listener.deliver_local and protocol != "smtp":
        raise table.error("deliver_local", "only SMTP listeners deliver mail")
    if listener.login_disabled_before_tls and protocol != "imap":
        raise table.error("login_disabled_before_tls", "only IMAP listeners use it")
    table.finish()
    return listener


def _read_channel(table: Table, context: _Context) -> ChannelSpec:
    name = table.string("name")
    table.where += f" (name {name!r})"
    kind = table.string("kind", choices=CHANNEL_KINDS)
    listener = context.listener(table)
    wanted = "imap" if kind == "incoming" else "smtp"
    if listener.protocol != wanted:
        raise table.error(
            "listener",
            f"an {kind} channel needs an {wanted} listener, and "
            f"{listener.name!r} is {listener.protocol}",
        )
    account = context.account(table)
    auth = table.string("auth", "password", choices=("password", "oauth"))
    token = table.string("token", None)
    password = table.string("password", None)
    tokens = context.accounts[account.casefold()].tokens
    if auth == "oauth" and token not in tokens:
        raise table.error(
            "token", f"auth is oauth: set token to one of {sorted(tokens) or 'none'}"
        )
    grouping = table.data.get("grouping")
    if grouping is not None and grouping not in GROUPING_MODES:
        raise table.error(
            "grouping", f"invalid value {grouping!r}: use one of {GROUPING_MODES}"
        )
    settings = {k: v for k, v in table.data.items() if k not in _CHANNEL_KEYS}
    return ChannelSpec(
        name, kind, listener.name, account, auth, token, settings, password
    )


def _read_folder(table: Table, context: _Context) -> FolderSpec:
    account = context.account(table)
    name = table.string("name", "INBOX")
    table.where += f" (name {name!r})"
    messages = []
    for item in table.tables("messages", "folders.messages"):
        path = context.file(item, "file")
        message_name = context.new_name(item, "name", item.string("name", path.stem))
        messages.append(
            MessageSpec(
                name=message_name,
                path=path,
                flags=item.strings("flags", ()),
                internaldate=item.timestamp("internaldate"),
            )
        )
        item.finish()
    generators = tuple(
        read_generator(item) for item in table.tables("generate", "folders.generate")
    )
    table.finish()
    return FolderSpec(account, name, tuple(messages), generators)


def _read_responder(table: Table, context: _Context) -> ResponderSpec:
    name = table.string("name")
    table.where += f" (name {name!r})"
    responder = ResponderSpec(
        name=name,
        template=context.file(table, "template"),
        account=context.account(table),
        folder=table.string("folder", "INBOX"),
        delay=table.number("delay", 0.0),
        answer=table.string("answer", name),
        recipient=table.string("recipient", None),
        subject=table.string("subject", None),
        ordinal=table.integer("ordinal", None, minimum=1),
        subject_prefix=table.raw("subject_prefix", "Re: "),
    )
    if not isinstance(responder.subject_prefix, str):
        raise table.error("subject_prefix", 'use a string such as "Re: "')
    _check_pattern(table, "subject", responder.subject)
    table.finish()
    return responder


def _check_pattern(table: Table, key: str, pattern: str | None) -> None:
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as error:
        raise table.error(key, f"invalid regular expression: {error}") from None


def _read_event(table: Table, context: _Context) -> TimelineEvent:
    at = table.number("at")
    action = table.string("action", choices=tuple(ACTION_KEYS))
    table.where += f" (action {action!r} at {at:g} s)"
    fields: dict[str, object] = {"at": at, "action": action}
    if action == "deliver":
        path = context.file(table, "file")
        fields.update(
            file=path,
            account=context.account(table),
            folder=table.string("folder", "INBOX"),
            name=context.new_name(table, "name", table.string("name", path.stem)),
            flags=table.strings("flags", ()),
            internaldate=table.timestamp("internaldate"),
        )
    elif action in ("set-flags", "expunge"):
        fields["message"] = context.known_name(
            table, "message", table.string("message")
        )
        if action == "set-flags":
            fields["flags"] = table.strings("flags")
            fields["mode"] = table.string("mode", "add", choices=FLAG_MODES)
    elif action == "change-uidvalidity":
        fields.update(
            account=context.account(table), folder=table.string("folder", "INBOX")
        )
    elif action == "drop-connections":
        if table.has("listener"):
            fields["listener"] = context.listener(table).name
    elif action == "operator-reply":
        fields["message"] = context.known_name(
            table, "message", table.string("message")
        )
        fields["name"] = context.new_name(table, "name", table.string("name"))
        fields["body"] = table.string("body")
    elif action == "responder":
        responder = table.string("responder")
        if responder not in context.responders:
            raise table.error("responder", f"unknown responder {responder!r}")
        fields["responder"] = responder
    else:
        fields.update(_read_fault(table, context, action))
    table.finish()
    return TimelineEvent(**fields)  # type: ignore[arg-type]


def _read_fault(table: Table, context: _Context, action: str) -> dict[str, object]:
    fields: dict[str, object] = {
        "command": " ".join(table.string("command").upper().split())
    }
    if table.has("listener"):
        listener = context.listener(table)
        if listener.protocol == "smtp":
            _check_smtp_fault(table, action, str(fields["command"]))
        fields["listener"] = listener.name
    if action == "delay":
        fields["seconds"] = table.number("seconds")
    fields["text"] = table.string("text", None)
    fields["nth"] = table.integer("nth", None, minimum=1)
    times = table.raw("times", 1)
    if times != "always" and (
        isinstance(times, bool) or not isinstance(times, int) or times < 1
    ):
        raise table.error(
            "times", f'invalid value {times!r}: use a number of 1 or more, or "always"'
        )
    fields["times"] = None if times == "always" else times
    assert action in FAULT_ACTIONS
    return fields


def _check_smtp_fault(table: Table, action: str, command: str) -> None:
    if action == "cut-literal":
        raise table.error("action", "cut-literal applies to IMAP listeners only")
    if command not in SMTP_FAULT_COMMANDS:
        raise table.error(
            "command",
            f"invalid SMTP command {command!r}: use one of "
            f"{', '.join(SMTP_FAULT_COMMANDS)}",
        )


def _read_expectations(
    table: Table, context: _Context, channels: tuple[ChannelSpec, ...]
) -> Expectations:
    incoming = [c.name for c in channels if c.kind == "incoming"]
    all_channels = [c.name for c in channels]

    def channel_of(item: Table, choices: list[str]) -> str:
        if not item.has("channel") and len(choices) == 1:
            item.raw("channel", None)
            return choices[0]
        return item.string("channel", choices=choices)

    tickets = []
    for item in table.tables("tickets", "expect.tickets"):
        channel = channel_of(item, incoming)
        mode = item.string("mode", choices=GROUPING_MODES)
        # Without hand-written tickets the expectation covers only the
        # tickets of generated mailboxes, known by construction.
        groups = item.raw("tickets", [])
        if not isinstance(groups, list) or not all(
            isinstance(group, list) and group for group in groups
        ):
            raise item.error(
                "tickets", "use a list of non-empty lists of message names"
            )
        for group in groups:
            for message in group:
                context.known_name(item, "tickets", str(message))
        tickets.append(
            TicketExpectation(channel, mode, tuple(tuple(g) for g in groups))
        )
        item.finish()

    states = []
    for item in table.tables("channels", "expect.channels"):
        states.append(
            ChannelExpectation(
                channel=channel_of(item, all_channels),
                state=item.string("state"),
                error_contains=item.strings("error_contains", ()),
            )
        )
        item.finish()

    outgoing = []
    for item in table.tables("outgoing", "expect.outgoing"):
        reply = context.known_name(item, "reply", item.string("reply"))
        in_reply_to = item.string("in_reply_to", None)
        references = item.strings("references", None)
        for name in [in_reply_to, *(references or ())]:
            if name is not None:
                context.known_name(item, "in_reply_to/references", name)
        _check_pattern(item, "subject", item.data.get("subject"))
        outgoing.append(
            OutgoingExpectation(
                reply=reply,
                in_reply_to=in_reply_to,
                references=references,
                subject=item.string("subject", None),
                to=item.strings("to", None),
                cc=item.strings("cc", None),
            )
        )
        item.finish()
    table.finish()
    return Expectations(tuple(tickets), tuple(states), tuple(outgoing))


__all__ = ["read_scenario", "ScenarioError"]
