"""Channel forms over the settings package: fields, checks, saving, tests."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagicc_tui.paths import Paths
from sagicc_tui.settings import (
    DEFAULT_PORTS,
    INCOMING_PRESETS,
    OUTGOING_PRESETS,
    AfterImport,
    AuthMethod,
    Channel,
    ChannelKind,
    Config,
    Encryption,
    Grouping,
    Provider,
    SettingsError,
    build_channel,
    channel_class,
    load_config,
    parse_field,
    save_config,
)
from sagicc_tui.settings.secret_store import (
    OAUTH_CLIENT_SECRET,
    PASSWORD,
    SecretStore,
    delete_channel_secrets,
    open_secret_store,
    rename_channel_secrets,
    secret_key,
)
from sagicc_tui.ui.backend import FieldSpec, StepResult

log = logging.getLogger(__name__)

# Form labels; a field missing here is shown with its name.
LABELS = {
    "name": "Name",
    "provider": "Provider",
    "host": "Host",
    "port": "Port",
    "encryption": "Encryption",
    "validate_certificates": "Validate certificates",
    "ca_file": "CA file",
    "username": "Username",
    "auth": "Sign-in",
    "oauth_client_id": "OAuth client id",
    "oauth_tenant": "OAuth tenant",
    "folder": "Folder",
    "encoding": "Character encoding",
    "grouping": "Grouping",
    "reopen_window_days": "Reopen window (days)",
    "import_existing": "Import existing mail",
    "after_import": "After import",
    "move_to_folder": "Move to folder",
    "poll_interval": "Poll interval (s)",
    "max_message_size": "Max message size",
    "blocked_senders": "Blocked senders",
    "blocked_domains": "Blocked domains",
    "acknowledge_new_tickets": "Acknowledge new tickets",
    "outgoing_channel": "Outgoing channel",
    "sender_address": "Sender address",
    "sender_name": "Sender name",
    "signature": "Signature",
    "save_to_sent": "Save copy to Sent",
    "sent_folder": "Sent folder",
    PASSWORD: "Password",
    OAUTH_CLIENT_SECRET: "OAuth client secret",
}

HELP = {
    "import_existing": "all, none, 14d or 2026-01-31",
    "blocked_senders": "comma-separated addresses",
    "blocked_domains": "comma-separated domains",
    "max_message_size": "e.g. 25MB",
}

ENUMS: dict[str, type[enum.StrEnum]] = {
    "provider": Provider,
    "encryption": Encryption,
    "auth": AuthMethod,
    "grouping": Grouping,
    "after_import": AfterImport,
}

SECRET_FIELDS = (PASSWORD, OAUTH_CLIENT_SECRET)


def _text(value: Any) -> str:
    """Return a setting's form text: lists comma-separated, booleans as words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _spec(field: dataclasses.Field[Any], default: Any) -> FieldSpec:
    name = field.name
    label = LABELS.get(name, name)
    if name in ENUMS:
        choices = tuple(
            (member.value, getattr(member, "label", member.value))
            for member in ENUMS[name]
        )
        return FieldSpec(name, label, "choice", choices, _text(default))
    if isinstance(default, bool):
        return FieldSpec(name, label, "bool", default=_text(default))
    kind = "int" if isinstance(default, int) else "text"
    return FieldSpec(name, label, kind, default=_text(default), help=HELP.get(name, ""))


class ChannelSettings:
    """Reads and writes channels in the config file and their secrets."""

    def __init__(
        self,
        paths: Paths,
        *,
        secrets: SecretStore | None = None,
        connection_test: Callable[..., bool] | None = None,
    ) -> None:
        self.paths = paths
        self._secrets = secrets
        self._connection_test = connection_test
        self._config: Config | None = None

    @property
    def config_file(self) -> Path:
        return self.paths.config_file

    def load(self) -> Config:
        """Return the settings, read once and again after each save."""
        if self._config is None:
            self._config = load_config(self.config_file)
        return self._config

    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = open_secret_store(self.load(), self.paths)
        return self._secrets

    # Form description

    def fields(self, kind: str) -> list[FieldSpec]:
        model = channel_class(kind)
        sample = model(name="")
        specs = [_spec(f, getattr(sample, f.name)) for f in dataclasses.fields(model)]
        auth_at = next(i for i, s in enumerate(specs) if s.name == "auth") + 1
        secrets = [FieldSpec(n, LABELS[n], "secret") for n in SECRET_FIELDS]
        return [*specs[:auth_at], secrets[0], *specs[auth_at:], secrets[1]]

    def provider_defaults(self, kind: str, provider: str) -> dict[str, str]:
        presets = INCOMING_PRESETS if kind == "incoming" else OUTGOING_PRESETS
        try:
            preset = presets.get(Provider(provider))
        except ValueError:
            return {}
        if preset is None:
            return {}
        return {
            "host": preset.host,
            "port": str(preset.port),
            "encryption": preset.encryption.value,
        }

    def values(self, kind: str, name: str) -> dict[str, str]:
        config = self.load()
        channel = (
            config.incoming_channel(name)
            if kind == "incoming"
            else config.outgoing_channel(name)
        )
        if channel is None:
            raise LookupError(f"no {kind} channel is called {name!r}")
        values = {
            f.name: _text(getattr(channel, f.name)) for f in dataclasses.fields(channel)
        }
        for secret in SECRET_FIELDS:
            values[secret] = ""  # the form never shows a stored secret
        return values

    # Checking and saving

    def validate_field(
        self, kind: str, name: str, value: str, values: dict[str, str]
    ) -> str | None:
        if name in SECRET_FIELDS:
            return self._secret_error(name, value, values)
        try:
            parse_field(
                channel_class(kind), name, value, channel_name=values.get("name", "")
            )
        except SettingsError as error:
            return error.short_message
        except KeyError:
            return None
        return None

    @staticmethod
    def _secret_error(name: str, value: str, values: dict[str, str]) -> str | None:
        if any(char in value for char in "\r\n\x00"):
            return "contains a line break. Fix: paste the secret on one line."
        if name == PASSWORD and values.get("auth") == "password" and not value:
            return "the password is missing. Fix: enter the password or app password."
        return None

    def build(self, kind: str, values: dict[str, str]) -> Channel:
        """Return the channel for ``values``; raise ValueError naming each error."""
        settings = {k: v for k, v in values.items() if k not in SECRET_FIELDS}
        channel, errors = build_channel(channel_class(kind), settings)
        if errors or channel is None:
            raise ValueError("; ".join(e.message for e in errors) or "invalid channel")
        return channel

    def save(
        self, kind: str, values: dict[str, str], original_name: str | None
    ) -> None:
        channel = self.build(kind, values)
        config = self.load().with_channel(channel, replace=original_name)
        save_config(config, self.config_file)
        self._config = config
        store = self.secrets()
        if original_name and original_name != channel.name:
            rename_channel_secrets(store, original_name, channel.name)
        for secret in SECRET_FIELDS:
            if values.get(secret):
                store.set(secret_key(channel.name, secret), values[secret])
        log.info("saved %s channel %s", kind, channel.name)

    def remove(self, kind: str, name: str) -> None:
        config = self.load().without_channel(name)
        save_config(config, self.config_file)
        self._config = config
        delete_channel_secrets(self.secrets(), name)
        log.info("removed %s channel %s", kind, name)

    def default_port(self, kind: str, encryption: str) -> int:
        return DEFAULT_PORTS[ChannelKind(kind)][Encryption(encryption)]

    # Connection test

    def test_connection(
        self, kind: str, values: dict[str, str], on_step: Callable[[StepResult], None]
    ) -> bool:
        """Run the engine's connection test on the form's values (blocking).

        A secret left empty in an edit form falls back to the stored one.
        """
        try:
            channel = self.build(kind, values)
        except ValueError as error:
            on_step(StepResult("check settings", False, str(error)))
            return False
        typed = {
            secret_key(channel.name, name): values[name]
            for name in SECRET_FIELDS
            if values.get(name)
        }
        secrets = OverlaySecrets(typed, self.secrets())
        run = self._connection_test or run_engine_connection_test
        return bool(run(channel, secrets, on_step))


class OverlaySecrets:
    """Secrets typed in a form, in front of the stored ones; writes nothing."""

    def __init__(self, typed: dict[str, str], stored: SecretStore) -> None:
        self.typed = typed
        self.stored = stored

    def get(self, key: str) -> str | None:
        return self.typed.get(key) or self.stored.get(key)

    def set(self, key: str, value: str) -> None:
        self.typed[key] = value

    def delete(self, key: str) -> None:
        self.typed.pop(key, None)


def run_engine_connection_test(
    channel: Channel, secrets: SecretStore, on_step: Callable[[StepResult], None]
) -> bool:
    """Run the engine's connection test on a private event loop (blocking)."""
    from sagicc_tui.engine.conntest import run_connection_test

    def report(step: Any) -> None:
        words = [
            step.detail,
            step.server_text and f"server: {step.server_text}",
            step.fix,
        ]
        on_step(StepResult(step.name, step.passed, " · ".join(w for w in words if w)))

    result = asyncio.run(run_connection_test(channel, secrets, on_step=report))
    return result.passed
