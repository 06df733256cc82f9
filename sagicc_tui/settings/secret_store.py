"""Secret store: passwords and tokens in the OS keyring or a private file."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sagicc_tui.paths import Paths, resolve_paths
from sagicc_tui.settings.atomic import atomic_write_text
from sagicc_tui.settings.models import Config, SecretBackend

logger = logging.getLogger(__name__)

# Kinds of secret a channel can have. secret_key(name, kind) builds the key.
PASSWORD = "password"
OAUTH_CLIENT_SECRET = "oauth_client_secret"
OAUTH_REFRESH_TOKEN = "oauth_refresh_token"
OAUTH_ACCESS_TOKEN = "oauth_access_token"
SECRET_KINDS = (PASSWORD, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN, OAUTH_ACCESS_TOKEN)

SECRETS_FILE_NAME = "secrets.json"
KEYRING_SERVICE = "sagicc"

# Every secret value this process has read or stored, so the log filter can
# redact it wherever it shows up.
_known_secrets: set[str] = set()


class SecretStoreError(Exception):
    """A secret store that cannot be opened, read or written."""


@runtime_checkable
class SecretStore(Protocol):
    """Key-value storage for secrets. Keys come from ``secret_key``."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None:
        """Remove ``key``. A missing key is not an error."""
        ...


def secret_key(channel_name: str, kind: str) -> str:
    """Return the store key for one secret of one channel.

    ``kind`` is one of SECRET_KINDS, e.g. ``secret_key("support", PASSWORD)``.
    """
    if kind not in SECRET_KINDS:
        raise ValueError(f"unknown secret kind {kind!r}; use one of {SECRET_KINDS}")
    return f"channel/{channel_name}/{kind}"


def remember_secret(value: str | None) -> None:
    """Add a value to the set the log filter redacts."""
    # Very short values would redact ordinary words in every log line.
    if value and len(value) >= 4:
        _known_secrets.add(value)


def known_secrets() -> frozenset[str]:
    """Return the secret values seen by this process (for log redaction)."""
    return frozenset(_known_secrets)


class FileSecretStore:
    """Secrets in a JSON file readable by its owner only.

    The folder is created with mode 0700 and the file with 0600 from the
    start (through an atomic write), so no other user can read either even
    briefly. An flock on a lock file beside it serialises read-modify-write
    between processes.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / SECRETS_FILE_NAME
        self._lock_path = folder / ".secrets.lock"

    def get(self, key: str) -> str | None:
        value = self._read().get(key)
        remember_secret(value)
        return value

    def set(self, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("secret values are strings")
        remember_secret(value)
        with self._locked():
            secrets = self._read()
            secrets[key] = value
            self._write(secrets)

    def delete(self, key: str) -> None:
        with self._locked():
            secrets = self._read()
            if secrets.pop(key, None) is not None:
                self._write(secrets)

    def _prepare_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = stat.S_IMODE(self.folder.stat().st_mode)
        if mode & 0o077:
            logger.warning(
                "secrets folder %s had mode %o; setting 0700", self.folder, mode
            )
            os.chmod(self.folder, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._prepare_folder()
        descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _read(self) -> dict[str, str]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                self._tighten_mode(handle.fileno())
                data: Any = json.load(handle)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise SecretStoreError(
                f"cannot read the secrets file {self.path}: {error}. Fix: restore "
                "it from a backup, or delete it and store the secrets again."
            ) from None

        secrets = data.get("secrets") if isinstance(data, dict) else None
        if not isinstance(secrets, dict):
            raise SecretStoreError(
                f"the secrets file {self.path} has no 'secrets' table. Fix: "
                "delete it and store the secrets again."
            )
        return {str(k): str(v) for k, v in secrets.items()}

    def _tighten_mode(self, descriptor: int) -> None:
        mode = stat.S_IMODE(os.fstat(descriptor).st_mode)
        if mode & 0o077:
            logger.warning("secrets file %s had mode %o; setting 0600", self.path, mode)
            os.fchmod(descriptor, 0o600)

    def _write(self, secrets: dict[str, str]) -> None:
        text = json.dumps({"version": 1, "secrets": secrets}, indent=2)
        atomic_write_text(self.path, text + "\n", new_mode=0o600)


class KeyringSecretStore:
    """Secrets in the OS keyring through the ``keyring`` package.

    ``backend`` lets tests pass a backend they built themselves, so they
    never touch the user's keyring. Errors from the backend become
    SecretStoreError.
    """

    def __init__(self, service: str = KEYRING_SERVICE, backend: Any = None) -> None:
        import keyring

        self.service = service
        self.backend = backend if backend is not None else keyring.get_keyring()

    def get(self, key: str) -> str | None:
        value = self._call("read", self.backend.get_password, self.service, key)
        remember_secret(value)
        return value

    def set(self, key: str, value: str) -> None:
        remember_secret(value)
        self._call("store", self.backend.set_password, self.service, key, value)

    def delete(self, key: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._call("delete", self.backend.delete_password, self.service, key)
        except SecretStoreError as error:
            if isinstance(error.__cause__, PasswordDeleteError):
                return
            raise

    def _call(self, action: str, method: Any, *args: str) -> Any:
        from keyring.errors import KeyringError

        try:
            return method(*args)
        except KeyringError as error:
            raise SecretStoreError(
                f"the keyring could not {action} a secret: {error}. Fix: unlock "
                'the keyring, or set secret_backend = "file" in the config.'
            ) from error


def keyring_usable(backend: Any = None) -> bool:
    """Return True when a keyring backend that really stores secrets exists.

    The ``fail`` and ``null`` backends (what headless servers get) and a
    chainer with nothing behind it do not count.
    """
    try:
        import keyring
        from keyring.backends import chainer, fail

        backend = backend if backend is not None else keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return False
        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            return False
        if type(backend).__module__ == "keyring.backends.null":
            return False
        return float(backend.priority) > 0
    except Exception as error:
        # Backends probe D-Bus and the like, so any failure means "not usable".
        logger.info("no usable keyring: %s", error)
        return False


def keyring_service(paths: Paths) -> str:
    """Return the keyring service name: one per SAGICC_HOME or other root."""
    if _is_user_default(paths):
        return KEYRING_SERVICE
    return f"{KEYRING_SERVICE}:{paths.secrets_dir}"


def _is_user_default(paths: Paths) -> bool:
    """Return True for the user's own platform folders (no SAGICC_HOME)."""
    return paths == resolve_paths({})


def open_secret_store(config: Config, paths: Paths | None = None) -> SecretStore:
    """Open the secret store the config prefers.

    ``auto`` takes the OS keyring when a usable one exists and ``paths`` are
    the user's own platform folders. Under SAGICC_HOME (or any other root)
    it takes the file store there, so tests, the demo and a team's shared
    folder never use one user's keyring.
    ``keyring`` raises SecretStoreError when no usable keyring exists.
    """
    paths = resolve_paths() if paths is None else paths
    preference = config.secret_backend
    if preference is SecretBackend.FILE:
        return FileSecretStore(paths.secrets_dir)

    if preference is SecretBackend.KEYRING:
        if not keyring_usable():
            raise SecretStoreError(
                'secret_backend is "keyring" but no usable keyring exists. Fix: '
                'set secret_backend = "auto" or "file" in the config.'
            )
        return KeyringSecretStore(keyring_service(paths))

    if _is_user_default(paths) and keyring_usable():
        return KeyringSecretStore(keyring_service(paths))
    return FileSecretStore(paths.secrets_dir)


def delete_channel_secrets(store: SecretStore, channel_name: str) -> None:
    """Delete every secret kind of one channel."""
    for kind in SECRET_KINDS:
        store.delete(secret_key(channel_name, kind))


def rename_channel_secrets(store: SecretStore, old_name: str, new_name: str) -> None:
    """Move a channel's secrets to the keys of its new name."""
    for kind in SECRET_KINDS:
        value = store.get(secret_key(old_name, kind))
        if value is not None:
            store.set(secret_key(new_name, kind), value)
            store.delete(secret_key(old_name, kind))
