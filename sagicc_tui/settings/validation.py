"""Validation of channels and config, with errors that name the fix."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

from sagicc_tui.settings import fields as f
from sagicc_tui.settings.models import (
    AfterImport,
    AuthMethod,
    Channel,
    Config,
    Encryption,
    Grouping,
    IncomingChannel,
    OutgoingChannel,
    Provider,
    SecretBackend,
)

_COMMON: dict[str, f.Parser] = {
    "name": f.parse_name,
    "provider": f.enum_parser(Provider),
    "host": f.parse_host,
    "port": f.parse_port,
    "encryption": f.enum_parser(Encryption),
    "validate_certificates": f.parse_bool,
    "ca_file": f.parse_ca_file,
    "username": f.parse_username,
    "auth": f.enum_parser(AuthMethod),
    "oauth_client_id": f.parse_client_id,
    "oauth_tenant": f.parse_tenant,
}

# One parser per model field. A parser accepts the typed value as well as its
# text form, so the same table checks models, TOML values, flags and forms.
FIELD_PARSERS: dict[type, dict[str, f.Parser]] = {
    IncomingChannel: {
        **_COMMON,
        "folder": f.parse_folder,
        "encoding": f.parse_encoding,
        "grouping": f.enum_parser(Grouping),
        "reopen_window_days": f.parse_reopen_window_days,
        "import_existing": f.parse_import_existing,
        "after_import": f.enum_parser(AfterImport),
        "move_to_folder": f.parse_optional_folder,
        "poll_interval": f.parse_poll_interval,
        "max_message_size": f.parse_size,
        "blocked_senders": f.parse_blocked_senders,
        "blocked_domains": f.parse_blocked_domains,
        "acknowledge_new_tickets": f.parse_bool,
        "outgoing_channel": f.parse_optional_name,
    },
    OutgoingChannel: {
        **_COMMON,
        "username": f.parse_optional_username,
        "sender_address": f.parse_address,
        "sender_name": f.parse_sender_name,
        "signature": f.parse_signature,
        "save_to_sent": f.parse_bool,
        "sent_folder": f.parse_optional_folder,
    },
    Config: {
        "ticket_tag_prefix": f.parse_tag_prefix,
        "key_bindings": f.parse_key_bindings,
        "secret_backend": f.enum_parser(SecretBackend),
        "operator_name": f.parse_operator_name,
    },
}


class _Hidden:
    """Placeholder for a value that must not appear in a message."""

    def __repr__(self) -> str:
        return "(not shown)"


HIDDEN: Any = _Hidden()
DUPLICATE_NAME_PROBLEM = "another channel already has this name"
_SECRET_WORDS = ("password", "secret", "token", "passwd")


class SettingsError(ValueError):
    """An invalid setting: the channel, the field, the bad value and the fix.

    ``channel`` is empty for settings outside any channel.
    """

    def __init__(
        self, channel: str, field: str, value: Any, problem: str, fix: str
    ) -> None:
        self.channel = channel
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f'channel "{_short_name(self.channel)}", ' if self.channel else ""
        return (
            f'{where}field "{self.field}": invalid value {_show(self.value)}: '
            f"{self.problem}. Fix: {_sentence(self.fix)}"
        )

    @property
    def short_message(self) -> str:
        """The problem and fix alone, for a form that shows it beside the field."""
        return f"{self.problem}. Fix: {_sentence(self.fix)}"


def _short_name(name: str) -> str:
    return name if len(name) <= 100 else f"{name[:100]}... ({len(name)} characters)"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def _show(value: Any) -> str:
    """Show a value safely: repr escapes CR, LF and other control characters.

    A long value is cut, so a pasted file does not become the error message.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if hasattr(value, "value") and isinstance(value.value, str):
        return f.short_repr(value.value)
    return f.short_repr(value)


def _has_surrogate(value: Any) -> bool:
    """Tell whether text in ``value`` contains bytes that were not valid UTF-8.

    Python turns such bytes in command-line arguments into lone surrogates,
    which pass every text check but cannot be written back as UTF-8.
    """
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, list | tuple):
        return any(_has_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def _parsers(model_cls: type) -> dict[str, f.Parser]:
    try:
        return FIELD_PARSERS[model_cls]
    except KeyError:
        raise TypeError(f"{model_cls.__name__} has no field validators") from None


def parse_field(
    model_cls: type, field_name: str, raw_value: Any, *, channel_name: str = ""
) -> Any:
    """Parse one field's value (typed or text) into its typed form.

    Raises SettingsError for a bad value, KeyError for a field the model
    does not have.
    """
    parser = _parsers(model_cls).get(field_name)
    if parser is None:
        raise KeyError(f"{model_cls.__name__} has no field {field_name!r}")
    if _has_surrogate(raw_value):
        raise SettingsError(
            channel_name,
            field_name,
            raw_value,
            "contains bytes that are not valid UTF-8",
            "type the value again in a terminal or file that uses UTF-8",
        )
    try:
        return parser(raw_value)
    except f.FieldProblem as problem:
        raise SettingsError(
            channel_name, field_name, raw_value, problem.problem, problem.fix
        ) from None


def validate_field(
    model_cls: type, field_name: str, raw_value: Any, *, channel_name: str = ""
) -> str | None:
    """Return the error message for one field's value, or None when it is valid.

    Meant for forms that check a field as the operator types.
    """
    try:
        parse_field(model_cls, field_name, raw_value, channel_name=channel_name)
    except SettingsError as error:
        return error.message
    return None


def validate(channel: Channel) -> list[SettingsError]:
    """Check every field of a channel and the rules that join its fields."""
    errors: list[SettingsError] = []
    label = channel.name if isinstance(channel.name, str) else ""
    for field_name in _parsers(type(channel)):
        value = getattr(channel, field_name)
        try:
            parse_field(type(channel), field_name, value, channel_name=label)
        except SettingsError as error:
            errors.append(error)

    errors.extend(_cross_field_errors(channel))
    return errors


def _cross_field_errors(channel: Channel) -> list[SettingsError]:
    errors: list[SettingsError] = []
    name = channel.name
    if channel.auth is AuthMethod.OAUTH and not channel.oauth_client_id:
        errors.append(
            SettingsError(
                name,
                "oauth_client_id",
                "",
                "OAuth sign-in needs the client id of your own registered app",
                "enter the client id, or set auth to password",
            )
        )
    if channel.auth is AuthMethod.OAUTH and not channel.username:
        errors.append(
            SettingsError(
                name,
                "username",
                "",
                "OAuth sign-in needs the mailbox address as username",
                "enter the address of the mailbox",
            )
        )
    if isinstance(channel, IncomingChannel):
        if channel.after_import is AfterImport.MOVE and not channel.move_to_folder:
            errors.append(
                SettingsError(
                    name,
                    "move_to_folder",
                    "",
                    'after_import is "move" but no target folder is set',
                    "enter the folder to move imported mail to",
                )
            )
        elif (
            channel.after_import is AfterImport.MOVE
            and channel.move_to_folder == channel.folder
        ):
            errors.append(
                SettingsError(
                    name,
                    "move_to_folder",
                    channel.move_to_folder,
                    "is the folder the channel reads, so mail would never move",
                    "choose another folder, e.g. Processed",
                )
            )
    elif channel.save_to_sent and not channel.sent_folder:
        errors.append(
            SettingsError(
                name,
                "sent_folder",
                "",
                "save_to_sent is on but no Sent folder is named",
                'enter the Sent folder, e.g. "Sent", or turn save_to_sent off',
            )
        )
    return errors


def validate_config(config: Config) -> list[SettingsError]:
    """Check the whole config: every channel, names, references and options."""
    errors: list[SettingsError] = []
    for channel in config.channels:
        errors.extend(validate(channel))

    for field_name in _parsers(Config):
        value = getattr(config, field_name)
        try:
            parse_field(Config, field_name, value)
        except SettingsError as error:
            errors.append(error)

    errors.extend(_duplicate_name_errors(config))
    errors.extend(_reference_errors(config))
    return errors


def _duplicate_name_errors(config: Config) -> list[SettingsError]:
    # Names are unique across both kinds because secrets are keyed by name.
    errors: list[SettingsError] = []
    seen: set[str] = set()
    for channel in config.channels:
        if channel.name in seen:
            errors.append(
                SettingsError(
                    channel.name,
                    "name",
                    channel.name,
                    DUPLICATE_NAME_PROBLEM,
                    "give every channel, incoming or outgoing, its own name",
                )
            )
        seen.add(channel.name)
    return errors


def _reference_errors(config: Config) -> list[SettingsError]:
    errors: list[SettingsError] = []
    outgoing_names = [c.name for c in config.outgoing]
    for channel in config.incoming:
        target = channel.outgoing_channel
        if target and target not in outgoing_names:
            known = ", ".join(outgoing_names) or "none yet"
            errors.append(
                SettingsError(
                    channel.name,
                    "outgoing_channel",
                    target,
                    "no outgoing channel has this name",
                    f"use one of the outgoing channels ({known}) or add it first",
                )
            )
    return errors


def build_channel(
    model_cls: type[IncomingChannel] | type[OutgoingChannel],
    values: Mapping[str, Any],
    *,
    base: Channel | None = None,
) -> tuple[Channel | None, list[SettingsError]]:
    """Build a channel from raw values, on top of ``base`` when given.

    Returns the channel (None when a field could not be parsed) and every
    error found, including unknown keys and cross-field rules.
    """
    name = values.get("name", base.name if base is not None else "")
    label = name if isinstance(name, str) else ""
    parsers = _parsers(model_cls)
    parsed: dict[str, Any] = {}
    errors: list[SettingsError] = []
    for key, raw in values.items():
        if key not in parsers:
            errors.append(_unknown_key_error(label, key, raw, parsers))
            continue
        try:
            parsed[key] = parse_field(model_cls, key, raw, channel_name=label)
        except SettingsError as error:
            errors.append(error)

    if base is None and "name" not in values:
        errors.append(
            SettingsError(
                "", "name", "", "every channel needs a name", "add name = ..."
            )
        )
    if errors:
        return None, errors

    if base is not None and type(base) is model_cls:
        channel = dataclasses.replace(base, **parsed)
    else:
        channel = model_cls(**parsed)
    return channel, validate(channel)


def _unknown_key_error(
    channel: str, key: str, raw: Any, parsers: Mapping[str, f.Parser]
) -> SettingsError:
    # The value is never shown: an unknown key may be a password someone
    # wrote into the file.
    if any(word in key.lower() for word in _SECRET_WORDS):
        return SettingsError(
            channel,
            key,
            HIDDEN,
            "secrets are never read from the config file",
            "delete this line and store the secret with "
            "'sagicc channels edit NAME --set-secret', then change that secret",
        )
    close = difflib.get_close_matches(key, list(parsers), n=1)
    if close:
        fix = f'did you mean "{close[0]}"?'
    else:
        fix = f"remove it; known settings: {', '.join(parsers)}"
    return SettingsError(channel, key, HIDDEN, "is not a known setting", fix)
