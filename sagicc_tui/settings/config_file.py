"""Reading and writing the TOML config file (format: docs/config.md)."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table

from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings.atomic import atomic_write_text
from sagicc_tui.settings.models import (
    Channel,
    Config,
    ImportExisting,
    IncomingChannel,
    OutgoingChannel,
)
from sagicc_tui.settings.toml_merge import merge_config
from sagicc_tui.settings.validation import (
    DUPLICATE_NAME_PROBLEM,
    FIELD_PARSERS,
    HIDDEN,
    SettingsError,
    build_channel,
    parse_field,
    validate_config,
)

logger = logging.getLogger(__name__)

_HEADER = (
    "sagicc configuration. Secrets (passwords, client secrets, tokens) are\n"
    "kept in the secret store, never here: use 'sagicc channels edit NAME\n"
    "--set-secret'. Format: docs/config.md in the sagicc-tui sources."
)
_READ_FIX = "check the file's permissions and that it is UTF-8 text."
_TABLES = {"incoming": IncomingChannel, "outgoing": OutgoingChannel}


class ConfigError(Exception):
    """A config file that cannot be read or contains invalid settings.

    ``problems`` pairs a location (``line 3``, ``[[incoming]] #2``) with the
    message; ``errors`` keeps the SettingsError objects behind them.
    """

    def __init__(
        self,
        path: Path,
        problems: list[tuple[str, str]],
        errors: list[SettingsError] | None = None,
    ) -> None:
        self.path = path
        self.problems = problems
        self.errors = errors or []
        super().__init__(self.message)

    @property
    def message(self) -> str:
        lines = [f"{self.path}: {where}: {text}" for where, text in self.problems]
        return "\n".join(lines)


def default_config_path() -> Path:
    return resolve_paths().config_file


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config file. A missing file gives the defaults.

    Raises ConfigError naming the file and the line (syntax errors) or the
    table (invalid settings) of every problem found.
    """
    path = default_config_path() if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            path, [("file", f"cannot be read: {error}. Fix: {_READ_FIX}")]
        ) from None

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = f"invalid TOML: {error}. Fix: correct the syntax at that spot."
        raise ConfigError(path, [(_toml_location(error), message)]) from None

    return config_from_data(data, path)


def _toml_location(error: tomllib.TOMLDecodeError) -> str:
    # tomllib puts "(at line L, column C)" at the end of its message.
    text = str(error)
    if "(at line " in text:
        return "line " + text.rsplit("(at line ", 1)[1].split(",")[0]
    return "syntax"


def config_from_data(data: Mapping[str, Any], path: Path) -> Config:
    """Build a Config from parsed TOML data, or raise ConfigError."""
    problems: list[tuple[str, str]] = []
    errors: list[SettingsError] = []
    channels: dict[str, list[Any]] = {"incoming": [], "outgoing": []}
    options: dict[str, Any] = {}

    for key, value in data.items():
        if key in _TABLES:
            channels[key] = _read_channels(key, value, problems, errors)
        elif key in FIELD_PARSERS[Config]:
            try:
                options[key] = parse_field(Config, key, value)
            except SettingsError as error:
                problems.append((_top_location(key), error.message))
                errors.append(error)
        else:
            error = SettingsError(
                "",
                key,
                HIDDEN,
                "is not a known top-level setting",
                "remove it; channels go in [[incoming]] or [[outgoing]] tables",
            )
            problems.append(("top level", error.message))
            errors.append(error)

    if problems:
        raise ConfigError(path, problems, errors)

    config = Config(
        incoming=tuple(channels["incoming"]),
        outgoing=tuple(channels["outgoing"]),
        **options,
    )
    _raise_for_config(config, path)
    return config


def _top_location(key: str) -> str:
    return "[key_bindings]" if key == "key_bindings" else "top level"


def _read_channels(
    kind: str,
    value: Any,
    problems: list[tuple[str, str]],
    errors: list[SettingsError],
) -> list[Channel]:
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        problems.append(
            (kind, f"must be a list of tables: write each channel as [[{kind}]]")
        )
        return []

    channels: list[Channel] = []
    for index, table in enumerate(value, start=1):
        channel, found = build_channel(_TABLES[kind], table)
        location = _channel_location(kind, index, table)
        for error in found:
            problems.append((location, error.message))
        errors.extend(found)
        if channel is not None:
            channels.append(channel)
    return channels


def _channel_location(kind: str, index: int, table: Mapping[str, Any]) -> str:
    name = table.get("name")
    suffix = f" ({name!r})" if isinstance(name, str) and name else ""
    return f"[[{kind}]] #{index}{suffix}"


def _raise_for_config(config: Config, path: Path) -> None:
    errors = validate_config(config)
    if not errors:
        return

    duplicates_seen: dict[str, int] = {}
    problems = []
    for error in errors:
        # The n-th "duplicate name" error points at the (n+1)-th channel so
        # named, so the location shows the copy rather than the first one.
        occurrence = 0
        if error.problem == DUPLICATE_NAME_PROBLEM:
            occurrence = duplicates_seen.get(error.channel, 0) + 1
            duplicates_seen[error.channel] = occurrence
        problems.append((_location_of(config, error, occurrence), error.message))
    raise ConfigError(path, problems, errors)


def _location_of(config: Config, error: SettingsError, occurrence: int) -> str:
    if not error.channel:
        return _top_location(error.field)

    found = 0
    for kind, channels in (
        ("incoming", config.incoming),
        ("outgoing", config.outgoing),
    ):
        for index, channel in enumerate(channels, start=1):
            if channel.name != error.channel:
                continue
            if found == occurrence:
                return _channel_location(kind, index, {"name": channel.name})
            found += 1
    return _top_location(error.field)


@contextlib.contextmanager
def config_lock(path: Path | None = None) -> Iterator[None]:
    """Hold an exclusive advisory lock on the config file's lock file.

    Processes that read, change and save the config under this lock do not
    overwrite each other's changes. Plain readers need no lock because
    saves are atomic.
    """
    path = default_config_path() if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Read and write for owner and group (a team may share the folder), minus
    # the umask. The lock file holds no data, so it needs no execute bit.
    descriptor = os.open(
        path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o660
    )
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def update_config(
    change: Callable[[Config], Config], path: Path | None = None
) -> Config:
    """Load the config, apply ``change`` and save the result, under the lock.

    ``change`` may raise to abort, and nothing is written then. Returns the
    saved config, or the loaded one when ``change`` returned it unchanged.
    """
    path = default_config_path() if path is None else path
    with config_lock(path):
        config = load_config(path)
        updated = change(config)
        if updated != config:
            save_config(updated, path)
        return updated


def save_config(config: Config, path: Path | None = None) -> None:
    """Validate ``config`` and write it atomically, keeping the file's mode.

    Raises ConfigError, and writes nothing, when the config is invalid.
    An existing file keeps its comments and the spelling of unchanged values.
    """
    path = default_config_path() if path is None else path
    _raise_for_config(config, path)
    atomic_write_text(path, _render(config, path))


def _render(config: Config, path: Path) -> str:
    """Return the new file text, merged into the old file when there is one."""
    try:
        old_text = path.read_text(encoding="utf-8")
        document = tomlkit.parse(old_text)
    except FileNotFoundError:
        return dump_config(config)
    except (OSError, UnicodeDecodeError, TOMLKitError) as error:
        logger.warning("rewriting %s from scratch: cannot parse it: %s", path, error)
        return dump_config(config)

    try:
        merge_config(document, config, _plain_value)
        text = tomlkit.dumps(document)
        merged = config_from_data(tomllib.loads(text), path)
    except (TOMLKitError, tomllib.TOMLDecodeError, ConfigError) as error:
        logger.warning("rewriting %s from scratch: merge failed: %s", path, error)
        return dump_config(config)

    # Safety net: the merged text must read back as exactly this config.
    if merged != config:
        logger.warning("rewriting %s from scratch: merge changed the config", path)
        return dump_config(config)
    return text


def dump_config(config: Config) -> str:
    """Return the TOML text for ``config``, which contains no secrets."""
    document = tomlkit.document()
    for line in _HEADER.splitlines():
        document.add(tomlkit.comment(line))
    document.add(tomlkit.nl())
    document["ticket_tag_prefix"] = config.ticket_tag_prefix
    document["operator_name"] = config.operator_name
    document["secret_backend"] = config.secret_backend.value

    bindings = tomlkit.table()
    for action, key in sorted(config.key_bindings.items()):
        bindings[action] = key
    document["key_bindings"] = bindings

    for kind, channels in (
        ("incoming", config.incoming),
        ("outgoing", config.outgoing),
    ):
        if channels:
            document[kind] = _channels_aot(channels)
    return tomlkit.dumps(document)


def _channels_aot(channels: tuple[Channel, ...]) -> AoT:
    tables = tomlkit.aot()
    for channel in channels:
        tables.append(_channel_table(channel))
    return tables


def _channel_table(channel: Channel) -> Table:
    table = tomlkit.table()
    for name, value in channel_to_dict(channel).items():
        if isinstance(value, str) and "\n" in value:
            value = tomlkit.string(value, multiline=True)
        table[name] = value
    return table


def channel_to_dict(channel: Channel) -> dict[str, Any]:
    """Return a channel's settings as plain TOML/JSON values, in file order."""
    return {
        name: _plain_value(getattr(channel, name))
        for name in FIELD_PARSERS[type(channel)]
    }


def _plain_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, ImportExisting):
        return value.to_text()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
