"""Secret stores: file modes, keyring selection and channel key helpers."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import chainer, fail, null

from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import (
    PASSWORD,
    Config,
    FileSecretStore,
    KeyringSecretStore,
    SecretBackend,
    SecretStoreError,
    atomic,
    delete_channel_secrets,
    keyring_usable,
    known_secrets,
    open_secret_store,
    rename_channel_secrets,
    save_config,
    secret_key,
)
from tests.settings.helpers import sample_config
from tests.settings.memory_keyring import MemoryKeyring


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Run with umask 000, the worst case for files created without a mode."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install an in-memory keyring as the process default, then restore."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_file_store_round_trip(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path / "secrets")
    key = secret_key("support", PASSWORD)
    assert store.get(key) is None
    store.set(key, "s3cret-pass")
    assert FileSecretStore(tmp_path / "secrets").get(key) == "s3cret-pass"
    store.delete(key)
    assert store.get(key) is None
    store.delete(key)


def test_file_store_modes_under_open_umask(tmp_path: Path, open_umask: None) -> None:
    folder = tmp_path / "secrets"
    FileSecretStore(folder).set("k", "value-1")
    assert _mode(folder) == 0o700
    assert _mode(folder / "secrets.json") == 0o600


def test_file_store_never_readable_during_write(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes: list[int] = []
    real_replace = os.replace

    def spying_replace(source: str, target: str) -> None:
        modes.append(_mode(Path(source)))
        real_replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", spying_replace)
    FileSecretStore(tmp_path / "secrets").set("k", "value-1")
    assert modes == [0o600]


def test_file_store_tightens_loose_modes(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    store = FileSecretStore(folder)
    store.set("k", "value-1")
    os.chmod(folder, 0o755)
    os.chmod(folder / "secrets.json", 0o644)
    store.set("k2", "value-2")
    assert _mode(folder) == 0o700
    assert _mode(folder / "secrets.json") == 0o600


def test_file_store_corrupt_file_error(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir(mode=0o700)
    (folder / "secrets.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SecretStoreError, match="cannot read the secrets file"):
        FileSecretStore(folder).get("k")


def test_file_store_format(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path)
    store.set(secret_key("a", PASSWORD), "pw-a")
    data = json.loads((tmp_path / "secrets.json").read_text(encoding="utf-8"))
    assert data == {"version": 1, "secrets": {"channel/a/password": "pw-a"}}


def test_secrets_absent_from_config_file(sagicc_home: Path) -> None:
    config = sample_config()
    store = open_secret_store(config)
    store.set(secret_key("smtp", PASSWORD), "never-in-toml-123")
    save_config(config)
    assert "never-in-toml-123" not in resolve_paths().config_file.read_text("utf-8")


def test_secret_key_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown secret kind"):
        secret_key("a", "pasword")


def test_rename_and_delete_channel_secrets(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path)
    store.set(secret_key("old", PASSWORD), "pw-old")
    rename_channel_secrets(store, "old", "new")
    assert store.get(secret_key("new", PASSWORD)) == "pw-old"
    assert store.get(secret_key("old", PASSWORD)) is None
    delete_channel_secrets(store, "new")
    assert store.get(secret_key("new", PASSWORD)) is None


def test_known_secrets_remembered(tmp_path: Path) -> None:
    FileSecretStore(tmp_path).set("k", "remember-me-42")
    assert "remember-me-42" in known_secrets()


def test_keyring_store_uses_given_backend() -> None:
    backend = MemoryKeyring()
    store = KeyringSecretStore("sagicc-test", backend=backend)
    store.set("k", "kr-value")
    assert backend.passwords == {("sagicc-test", "k"): "kr-value"}
    assert store.get("k") == "kr-value"
    store.delete("k")
    store.delete("k")
    assert store.get("k") is None


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), chainer.ChainerBackend()],
    ids=["fail", "null", "empty-chainer"],
)
def test_unusable_keyrings_rejected(backend: object) -> None:
    assert keyring_usable(backend) is False


def test_memory_keyring_is_usable() -> None:
    assert keyring_usable(MemoryKeyring()) is True


def test_file_preference_gives_file_store(memory_keyring: MemoryKeyring) -> None:
    store = open_secret_store(Config(secret_backend=SecretBackend.FILE))
    assert isinstance(store, FileSecretStore)
    assert store.folder == resolve_paths().secrets_dir


def test_auto_with_home_uses_file(memory_keyring: MemoryKeyring) -> None:
    store = open_secret_store(Config())
    assert isinstance(store, FileSecretStore)


def test_auto_without_home_uses_keyring(memory_keyring: MemoryKeyring) -> None:
    # The user's default folders are only named here: nothing is written.
    store = open_secret_store(Config(), resolve_paths({}))
    assert isinstance(store, KeyringSecretStore)
    assert store.backend is memory_keyring
    assert store.service == "sagicc"


def test_auto_with_other_root_uses_file(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    paths = resolve_paths({"SAGICC_HOME": str(tmp_path)})
    store = open_secret_store(Config(), paths)
    assert isinstance(store, FileSecretStore)
    assert store.folder == tmp_path / "secrets"


def test_auto_headless_uses_file() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        # The user's default folders are only named here: nothing is written.
        store = open_secret_store(Config(), resolve_paths({}))
        assert isinstance(store, FileSecretStore)
    finally:
        keyring.set_keyring(previous)


def test_keyring_preference_without_keyring() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(SecretStoreError, match="no usable keyring"):
            open_secret_store(Config(secret_backend=SecretBackend.KEYRING))
    finally:
        keyring.set_keyring(previous)


def test_keyring_preference_names_home(memory_keyring: MemoryKeyring) -> None:
    store = open_secret_store(Config(secret_backend=SecretBackend.KEYRING))
    assert isinstance(store, KeyringSecretStore)
    assert store.service == f"sagicc:{resolve_paths().secrets_dir}"
