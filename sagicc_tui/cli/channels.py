"""``sagicc channels``: list, add, edit, remove and test mail channels."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import importlib
import json
import logging
import shlex
import sys
from collections.abc import Callable
from typing import Any, TextIO

from sagicc_tui.logs import redact, setup_logging
from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import (
    DEFAULT_PORTS,
    OAUTH_ACCESS_TOKEN,
    OAUTH_CLIENT_SECRET,
    OAUTH_REFRESH_TOKEN,
    PASSWORD,
    AuthMethod,
    Channel,
    ChannelKind,
    Config,
    ConfigError,
    Encryption,
    IncomingChannel,
    OutgoingChannel,
    Provider,
    SecretStoreError,
    SettingsError,
    build_channel,
    channel_class,
    channel_to_dict,
    delete_channel_secrets,
    load_config,
    open_secret_store,
    rename_channel_secrets,
    secret_key,
    update_config,
)
from sagicc_tui.settings.descriptions import FIELD_HELP, describe_import_existing
from sagicc_tui.settings.validation import FIELD_PARSERS
from sagicc_tui.store import TicketStore

logger = logging.getLogger(__name__)

SECRET_KINDS_BY_FLAG = {
    "password": PASSWORD,
    "client-secret": OAUTH_CLIENT_SECRET,
    "refresh-token": OAUTH_REFRESH_TOKEN,
    "access-token": OAUTH_ACCESS_TOKEN,
}
# Every model field except name and provider, which have their own arguments.
_SETTING_FLAGS = [
    name
    for name in dict.fromkeys(
        [*FIELD_PARSERS[IncomingChannel], *FIELD_PARSERS[OutgoingChannel]]
    )
    if name not in ("name", "provider")
]
_BOOL_FIELDS = {"validate_certificates", "acknowledge_new_tickets", "save_to_sent"}


class CommandError(Exception):
    """An error to print as one line before exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``channels`` and its subcommands."""
    parser = subparsers.add_parser(
        "channels",
        help="list, add, edit, remove and test mail channels",
        description="Manage incoming (IMAP) and outgoing (SMTP) channels. "
        "Secrets are read from a hidden prompt or standard input, never "
        "from the command line.",
    )
    parser.set_defaults(func=lambda args: _usage(parser))
    commands = parser.add_subparsers(dest="channels_command", metavar="ACTION")

    listing = commands.add_parser("list", help="show every channel's settings")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_guarded(run_list))

    add = commands.add_parser("add", help="add a channel")
    add.add_argument("name", help="channel name, unique across both kinds")
    add.add_argument("--kind", required=True, choices=[k.value for k in ChannelKind])
    _add_setting_flags(add)
    _add_secret_flags(add)
    add.set_defaults(func=_guarded(run_add))

    edit = commands.add_parser("edit", help="change a channel's settings")
    edit.add_argument("name", help="name of the channel to change")
    edit.add_argument(
        "--rename", metavar="NEW_NAME", help="give the channel a new name"
    )
    _add_setting_flags(edit)
    _add_secret_flags(edit)
    edit.set_defaults(func=_guarded(run_edit))

    remove = commands.add_parser("remove", help="remove a channel and its secrets")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask to confirm")
    remove.set_defaults(func=_guarded(run_remove))

    test = commands.add_parser(
        "test", help="check a channel's connection step by step, changing nothing"
    )
    test.add_argument("name")
    test.add_argument("--json", action="store_true", help="print the report as JSON")
    test.set_defaults(func=_guarded(run_test))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--provider",
        choices=[p.value for p in Provider],
        help="google or microsoft fill host, port and encryption; other does not",
    )
    for name in _SETTING_FLAGS:
        flag = "--" + name.replace("_", "-")
        if name in _BOOL_FIELDS:
            parser.add_argument(
                flag,
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=FIELD_HELP[name],
            )
        else:
            parser.add_argument(flag, dest=name, metavar="VALUE", help=FIELD_HELP[name])


def _add_secret_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("secrets (never taken from the command line)")
    group.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the secret from the first line of standard input",
    )
    group.add_argument(
        "--set-secret",
        action="store_true",
        help="ask for the secret at a hidden prompt (add asks by default)",
    )
    group.add_argument(
        "--no-secret", action="store_true", help="do not ask for a secret"
    )
    group.add_argument(
        "--secret-kind",
        choices=list(SECRET_KINDS_BY_FLAG),
        help="which secret to store: password (default for password auth), "
        "client-secret (default for oauth), refresh-token or access-token",
    )


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Wrap a command so every failure prints one line and no traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CommandError as error:
            for line in str(error).splitlines():
                _error(line)
            return error.exit_code
        except BrokenPipeError:
            # main() handles a closed stdout for every subcommand.
            raise
        except ConfigError as error:
            for line in error.message.splitlines():
                _error(line)
            return 2
        except (SecretStoreError, OSError) as error:
            _error(str(error))
            return 1
        except Exception as error:
            return _unexpected(error)

    return run


def _unexpected(error: Exception) -> int:
    log_file = setup_logging(capture_exceptions=False)
    logger.exception("sagicc channels failed")
    _error(f"unexpected error: {redact(str(error))} (details in {log_file})")
    return 1


def _error(message: str) -> None:
    print(f"sagicc channels: {message}", file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    """Print every channel's key settings (never a secret)."""
    config = load_config()
    store = open_secret_store(config)
    rows = [_describe(channel, store) for channel in config.channels]
    if args.json:
        print(json.dumps({"channels": rows}, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No channels yet. Add one with: sagicc channels add NAME --kind incoming")
        return 0
    for channel in config.channels:
        print(_summary_line(channel, store))
    return 0


def _describe(channel: Channel, store: Any) -> dict[str, Any]:
    return {
        "kind": channel.KIND.value,
        **channel_to_dict(channel),
        "secret_stored": _secret_stored(channel, store),
    }


def _secret_stored(channel: Channel, store: Any) -> bool:
    kind = PASSWORD if channel.auth is AuthMethod.PASSWORD else OAUTH_CLIENT_SECRET
    try:
        return store.get(secret_key(channel.name, kind)) is not None
    except SecretStoreError:
        return False


def _summary_line(channel: Channel, store: Any) -> str:
    server = f"{channel.host}:{channel.port}"
    security = channel.encryption.label
    if not channel.validate_certificates:
        security += ", certificates not checked"
    if isinstance(channel, IncomingChannel):
        detail = f"folder {channel.folder!r}, grouping {channel.grouping.value}"
        if channel.outgoing_channel:
            detail += f", replies via {channel.outgoing_channel}"
    else:
        detail = f"from {channel.sender_address}"
    secret = "secret stored" if _secret_stored(channel, store) else "no secret"
    user = channel.username or "no login"
    return (
        f"{channel.name} ({channel.KIND.value}): {server} {security}; "
        f"{user}; {detail}; {secret}"
    )


def _changes(args: argparse.Namespace, model_cls: type) -> dict[str, Any]:
    """Collect the setting flags given, rejecting those of the other kind."""
    changes: dict[str, Any] = {}
    own = FIELD_PARSERS[model_cls]
    for name in _SETTING_FLAGS:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in own:
            flag = "--" + name.replace("_", "-")
            raise CommandError(
                f"{flag} does not apply to {model_cls.KIND.value} channels; remove it"
            )
        if name == "signature":
            value = value.replace("\\n", "\n")
        changes[name] = value
    return changes


def _fill_server(
    base: Channel, args: argparse.Namespace, changes: dict[str, Any]
) -> Channel:
    """Apply a provider preset, then the usual port for a new encryption.

    The port follows the encryption only while it is the usual port of the
    old encryption, so a custom port survives an edit.
    """
    if args.provider:
        base = base.with_preset(Provider(args.provider))
    encryption = changes.get("encryption")
    if not encryption or "port" in changes:
        return base

    usual = DEFAULT_PORTS[base.KIND]
    try:
        mode = Encryption(str(encryption).strip().lower())
    except ValueError:
        return base
    if base.port == usual[base.encryption]:
        changes["port"] = usual[mode]
    return base


def _build(
    base: Channel, changes: dict[str, Any], config: Config, old_name: str | None
) -> Config:
    channel, errors = build_channel(type(base), changes, base=base)
    if errors or channel is None:
        raise _settings_failure(errors)
    return config.with_channel(channel, replace=old_name)


def _settings_failure(errors: list[SettingsError]) -> CommandError:
    return CommandError("\n".join(error.message for error in errors), exit_code=2)


def run_add(args: argparse.Namespace) -> int:
    """Add a channel from the flags, then store its secret."""

    def add(config: Config) -> Config:
        if config.channel(args.name) is not None:
            raise CommandError(
                f'a channel named "{args.name}" already exists; change it with: '
                f"sagicc channels edit {shlex.quote(args.name)}"
            )
        model_cls = channel_class(args.kind)
        changes = _changes(args, model_cls)
        base = _fill_server(model_cls(name=args.name), args, changes)
        return _build(base, {"name": args.name, **changes}, config, None)

    # Build once without the lock to check the flags before any prompt.
    preview = add(load_config()).channel(args.name)
    assert preview is not None
    secret = _read_secret(args, preview, ask_by_default=True)

    updated = update_config(add)
    channel = updated.channel(args.name)
    assert channel is not None
    if secret is not None:
        store = open_secret_store(updated)
        store.set(secret_key(channel.name, _secret_kind(args, channel)), secret)

    print(f'Added {channel.KIND.value} channel "{channel.name}".')
    if secret is None and channel.username:
        print(
            "No secret stored yet: run sagicc channels edit "
            f"{shlex.quote(channel.name)} --set-secret before syncing.",
        )
    if isinstance(channel, IncomingChannel):
        print(_import_summary(channel))
    return 0


def _import_summary(channel: IncomingChannel) -> str:
    what = describe_import_existing(channel.import_existing)
    return (
        f"The first sync imports {what}; change it with: sagicc channels edit "
        f"{shlex.quote(channel.name)} --import-existing VALUE "
        "(all, none, Nd for N days or YYYY-MM-DD)"
    )


def run_edit(args: argparse.Namespace) -> int:
    """Change the given settings of a channel, its name or its secret."""
    new_name = args.rename or args.name

    def edit(config: Config) -> Config:
        current = _existing(config, args.name)
        changes = _changes(args, type(current))
        if args.rename:
            if config.channel(args.rename) is not None:
                raise CommandError(f'a channel named "{args.rename}" already exists')
            changes["name"] = args.rename
        base = _fill_server(current, args, changes)
        if not changes and base == current:
            return config
        return _build(base, changes, config, current.name)

    # Build once without the lock to check the flags before any prompt.
    preview = edit(load_config()).channel(new_name)
    assert preview is not None
    secret = _read_secret(args, preview, ask_by_default=False)

    updated = update_config(edit)
    channel = updated.channel(new_name)
    assert channel is not None
    store = open_secret_store(updated)
    if args.rename:
        rename_channel_secrets(store, args.name, new_name)
        _rename_in_ticket_store(args.name, new_name)
    if secret is not None:
        store.set(secret_key(new_name, _secret_kind(args, channel)), secret)
    print(f'Updated channel "{new_name}".')
    return 0


def _rename_in_ticket_store(old_name: str, new_name: str) -> None:
    """Keep the channel's tickets and sync position under its new name.

    Without this the engine would see a new, empty channel and import the
    whole mailbox again.
    """
    store_file = resolve_paths().store_file
    if not store_file.exists():
        return
    with TicketStore.open(store_file) as tickets:
        tickets.rename_channel(old_name, new_name, who=getpass.getuser())


def run_remove(args: argparse.Namespace) -> int:
    """Remove a channel and its secrets after confirmation."""

    def remove(config: Config) -> Config:
        channel = _existing(config, args.name)
        users = [c.name for c in config.incoming_using(channel.name)]
        if users:
            raise CommandError(
                f'channel "{channel.name}" sends the replies of '
                f"{', '.join(users)}; point those at another outgoing channel first"
            )
        return config.without_channel(channel.name)

    remove(load_config())
    if not args.yes and not _confirm(f'Remove channel "{args.name}"? [y/N] '):
        print("Nothing removed.")
        return 1

    updated = update_config(remove)
    delete_channel_secrets(open_secret_store(updated), args.name)
    print(f'Removed channel "{args.name}".')
    return 0


def _confirm(prompt: str) -> bool:
    if not sys.stdin.isatty():
        raise CommandError(
            "not removing without confirmation: standard input is not a "
            "terminal; add --yes"
        )
    return input(prompt).strip().lower() in ("y", "yes")


def _existing(config: Config, name: str) -> Channel:
    channel = config.channel(name)
    if channel is None:
        known = ", ".join(c.name for c in config.channels) or "none yet"
        raise CommandError(f'no channel named "{name}" (channels: {known})')
    return channel


def _secret_kind(args: argparse.Namespace, channel: Channel) -> str:
    if args.secret_kind:
        return SECRET_KINDS_BY_FLAG[args.secret_kind]
    return PASSWORD if channel.auth is AuthMethod.PASSWORD else OAUTH_CLIENT_SECRET


def _read_secret(
    args: argparse.Namespace, channel: Channel, *, ask_by_default: bool
) -> str | None:
    """Read the secret from stdin or a hidden prompt; None if none is requested."""
    if args.secret_stdin:
        return _secret_from(sys.stdin)
    if args.no_secret:
        return None
    wants_prompt = args.set_secret or (ask_by_default and bool(channel.username))
    if not wants_prompt:
        return None
    if not sys.stdin.isatty():
        if args.set_secret:
            raise CommandError(
                "cannot prompt for the secret: standard input is not a terminal; "
                "use --secret-stdin and pipe the secret in"
            )
        return None

    kind = _secret_kind(args, channel).replace("_", " ")
    value = getpass.getpass(f'{kind.capitalize()} for channel "{channel.name}": ')
    return value or None


def _secret_from(stream: TextIO) -> str:
    line = stream.readline().rstrip("\r\n")
    if not line:
        raise CommandError("--secret-stdin read an empty line; pipe the secret in")
    return line


def run_test(args: argparse.Namespace) -> int:
    """Run the engine's connection test for one channel and print each step."""
    config = load_config()
    channel = _existing(config, args.name)
    try:
        conntest = importlib.import_module("sagicc_tui.engine.conntest")
    except ModuleNotFoundError as error:
        if error.name != "sagicc_tui.engine.conntest":
            raise
        raise CommandError(
            "the connection test is not available in this build yet "
            "(sagicc_tui.engine.conntest is missing)",
            exit_code=3,
        ) from None

    setup_logging(capture_exceptions=False)
    store = open_secret_store(config)
    on_step = None if args.json else _print_step
    report = asyncio.run(conntest.run_connection_test(channel, store, on_step=on_step))
    if args.json:
        print(json.dumps(_as_data(report), indent=2, ensure_ascii=False, default=str))
    return 0 if _passed(report) else 1


def _print_step(step: Any) -> None:
    passed = _passed(step)
    mark = "ok  " if passed else "FAIL"
    name = getattr(step, "name", None) or getattr(step, "title", None) or str(step)
    detail = getattr(step, "detail", None) or getattr(step, "message", None) or ""
    print(f"[{mark}] {name}" + (f": {detail}" if detail else ""))
    if passed:
        return

    server_text = getattr(step, "server_text", None)
    if server_text:
        print(f"       Server response: {redact(server_text)}")
    fix = getattr(step, "fix", None)
    if fix:
        print(f"       Fix: {fix}")


def _passed(item: Any) -> bool:
    for attribute in ("passed", "ok", "success"):
        value = getattr(item, attribute, None)
        if isinstance(value, bool):
            return value
    return False


def _as_data(report: Any) -> Any:
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return dataclasses.asdict(report)
    to_dict = getattr(report, "to_dict", None)
    return to_dict() if callable(to_dict) else str(report)
