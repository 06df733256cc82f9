"""Merging a Config into an existing TOML file, keeping comments and spelling."""

from __future__ import annotations

import dataclasses
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument

from sagicc_tui.settings.models import Channel, Config
from sagicc_tui.settings.validation import FIELD_PARSERS, SettingsError, parse_field

_OPTIONS = ("ticket_tag_prefix", "operator_name", "secret_backend")


def merge_config(document: TOMLDocument, config: Config, plain: Any) -> None:
    """Update ``document`` in place so that it describes ``config``.

    A value whose meaning is unchanged keeps its spelling ("25MB" stays
    "25MB"), and comments stay where they are. Channels are matched by name.
    A renamed channel becomes a new table, and its comments are lost.
    ``plain`` converts a typed value to its TOML form.
    """
    for key in _OPTIONS:
        _set_if_changed(document, Config, key, getattr(config, key), plain)
    _merge_bindings(document, config.key_bindings)
    _merge_channels(document, "incoming", config.incoming, plain)
    _merge_channels(document, "outgoing", config.outgoing, plain)


def _set_if_changed(
    container: Any,
    model_cls: type,
    key: str,
    value: Any,
    plain: Any,
    *,
    skip_default: bool = True,
) -> None:
    """Set ``key`` unless it already means ``value``.

    With ``skip_default``, a missing key whose value is the default stays
    missing, so a short hand-written file stays short.
    """
    if key in container:
        try:
            if parse_field(model_cls, key, container[key].unwrap()) == value:
                return
        except (SettingsError, AttributeError):
            pass
    elif skip_default and value == _default(model_cls, key):
        return

    converted = plain(value)
    if isinstance(converted, str) and "\n" in converted:
        converted = tomlkit.string(converted, multiline=True)
    if key in container:
        container[key] = converted
    else:
        _insert_after_last_value(container, key, converted)


def _default(model_cls: type, key: str) -> Any:
    for field in dataclasses.fields(model_cls):
        if field.name != key:
            continue
        if field.default is not dataclasses.MISSING:
            return field.default
        if field.default_factory is not dataclasses.MISSING:
            return field.default_factory()
    return dataclasses.MISSING


def _insert_after_last_value(container: Any, key: str, value: Any) -> None:
    """Add ``key`` right after the container's last key, not at its very end.

    tomlkit keeps the blank lines and comments that precede the next table
    at the end of the current one, so a plain append would land below them
    and seem to belong to the next table.
    """
    body = (
        container.body if isinstance(container, TOMLDocument) else container.value.body
    )
    position = 0
    for index, (item_key, item) in enumerate(body):
        if isinstance(item, Table | AoT):
            break
        if item_key is not None:
            position = index + 1

    if position >= len(body):
        container[key] = value
        return
    # NOTE: _insert_at is tomlkit's (0.15) own private helper; save_config
    # reloads the result and falls back to a fresh file if it misreads.
    target = container if isinstance(container, TOMLDocument) else container.value
    target._insert_at(position, key, value)


def _merge_bindings(document: TOMLDocument, bindings: dict[str, str]) -> None:
    table = document.get("key_bindings")
    if not isinstance(table, Table):
        table = tomlkit.table()
        document["key_bindings"] = table

    for action in [a for a in table if a not in bindings]:
        del table[action]
    for action, key in bindings.items():
        if action not in table:
            _insert_after_last_value(table, action, key)
        elif table[action] != key:
            table[action] = key


def _merge_channels(
    document: TOMLDocument, kind: str, channels: tuple[Channel, ...], plain: Any
) -> None:
    existing = document.get(kind)
    if not channels:
        if kind in document:
            del document[kind]
        return

    tables = existing if isinstance(existing, AoT) else tomlkit.aot()
    by_name = {table.get("name"): table for table in tables}
    file_order = [name for name in by_name if name in {c.name for c in channels}]
    config_order = [c.name for c in channels if c.name in by_name]
    if file_order != config_order:
        # Channels were reordered: rebuild this kind's tables from scratch.
        tables, by_name = tomlkit.aot(), {}

    for index in reversed(range(len(tables))):
        if tables[index].get("name") not in {c.name for c in channels}:
            del tables[index]
    for channel in channels:
        table = by_name.get(channel.name)
        if table is None:
            table = tomlkit.table()
            _fill_table(table, channel, plain, skip_default=False)
            tables.append(table)
        else:
            _fill_table(table, channel, plain, skip_default=True)
    if tables is not existing:
        document[kind] = tables


def _fill_table(
    table: Table, channel: Channel, plain: Any, *, skip_default: bool
) -> None:
    for key in FIELD_PARSERS[type(channel)]:
        value = getattr(channel, key)
        _set_if_changed(
            table, type(channel), key, value, plain, skip_default=skip_default
        )
