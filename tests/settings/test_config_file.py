"""TOML config file: round trip, defaults, atomic writes and error locations."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import stat
import tomllib
from pathlib import Path

import pytest

from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import (
    Config,
    ConfigError,
    IncomingChannel,
    atomic,
    config_lock,
    dump_config,
    load_config,
    save_config,
    update_config,
)
from tests.settings.helpers import sample_config


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    config = sample_config()
    save_config(config, path)
    assert load_config(path) == config


def test_dump_is_valid_toml() -> None:
    data = tomllib.loads(dump_config(sample_config()))
    assert data["ticket_tag_prefix"] == "ACME"
    assert data["incoming"][0]["import_existing"] == "2026-01-31"
    assert data["outgoing"][0]["encryption"] == "none"
    assert data["key_bindings"] == {"next_ticket": "j,down", "reply": "r"}


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == Config()


def test_default_path_under_sagicc_home(sagicc_home: Path) -> None:
    save_config(sample_config())
    assert resolve_paths().config_file.is_file()
    assert resolve_paths().config_file.is_relative_to(sagicc_home)
    assert load_config() == sample_config()


def test_minimal_file_fills_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[incoming]]\nname = "support"\nhost = "mail.example.test"\n'
        'username = "u"\nimport_existing = 2026-02-01\n',
        encoding="utf-8",
    )
    config = load_config(path)
    channel = config.incoming[0]
    assert channel.port == 993
    assert channel.folder == "INBOX"
    assert channel.import_existing.to_text() == "2026-02-01"


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('operator_name = "x"\n[[incoming]]\nport =\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 3" in message


def test_invalid_value_names_table_and_field(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[incoming]]\nname = "a"\nhost = "h"\nusername = "u"\n'
        '[[incoming]]\nname = "b"\nhost = "h"\nusername = "u"\nport = 70000\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems[0][0] == "[[incoming]] #2 ('b')"
    assert 'channel "b", field "port": invalid value 70000' in str(caught.value)
    assert caught.value.errors[0].field == "port"


def test_duplicate_name_points_at_copy(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    table = '[[incoming]]\nname = "a"\nhost = "h"\nusername = "u"\n'
    path.write_text(table + table, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems[0][0] == "[[incoming]] #2 ('a')"


def test_unknown_key_suggests_field(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[incoming]]\nname = "a"\nhost = "h"\nusername = "u"\nprot = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match='did you mean "port"'):
        load_config(path)


def test_secret_in_file_is_rejected_unshown(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[incoming]]\nname = "a"\nhost = "h"\nusername = "u"\n'
        'password = "hunter2-in-file"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "hunter2-in-file" not in str(caught.value)
    assert "secrets are never read from the config file" in str(caught.value)


def test_unknown_reference_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[incoming]]\nname = "a"\nhost = "h"\nusername = "u"\n'
        'outgoing_channel = "nowhere"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="no outgoing channel has this name"):
        load_config(path)


def test_channels_not_tables_rejected(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('incoming = "support"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"write each channel as \[\[incoming\]\]"):
        load_config(path)


def test_save_rejects_invalid_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    bad = Config(incoming=(IncomingChannel("a", host="", username="u"),))
    with pytest.raises(ConfigError, match='field "host"'):
        save_config(bad, path)
    assert not path.exists()


def test_save_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(), path)
    os.chmod(path, 0o640)
    save_config(sample_config(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_follows_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "sagicc.toml"
    real.parent.mkdir()
    real.write_text("", encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_config(sample_config(), link)
    assert link.is_symlink()
    assert load_config(real) == sample_config()


def test_failed_write_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(operator_name="old"), path)
    before = path.read_bytes()

    def broken_fsync(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        save_config(sample_config(), path)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_failed_rename_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(operator_name="old"), path)
    before = path.read_bytes()

    def broken_replace(source: object, target: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_config(sample_config(), path)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_no_secret_keys_in_dump() -> None:
    data = tomllib.loads(dump_config(sample_config()))
    keys = {key for table in data["incoming"] + data["outgoing"] for key in table}
    for word in ("password", "secret", "token"):
        assert not [key for key in keys if word in key]


def test_documented_example_loads(tmp_path: Path) -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    example = doc.read_text(encoding="utf-8").split("```toml\n")[1].split("```")[0]
    path = tmp_path / "config.toml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    assert config.ticket_tag(42) == "[ACME#42]"
    assert config.outgoing_for(config.incoming[0]).name == "support-smtp"
    assert config.outgoing[0].signature == "Kind regards,\nACME Support"


def test_config_lock_is_exclusive(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with config_lock(path):
        descriptor = os.open(tmp_path / ".config.toml.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(descriptor)


def test_update_config_applies_change(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(operator_name="old"), path)
    result = update_config(
        lambda config: dataclasses.replace(config, operator_name="new"), path
    )
    assert result.operator_name == "new"
    assert load_config(path).operator_name == "new"


def test_update_config_abort_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(operator_name="old"), path)
    before = path.read_bytes()

    def abort(config: Config) -> Config:
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        update_config(abort, path)
    assert path.read_bytes() == before


def test_non_utf8_file_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'operator_name = "\xff"\n')
    with pytest.raises(ConfigError, match="that it is UTF-8 text"):
        load_config(path)


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o640), (0o002, 0o660)])
def test_config_lock_file_mode(tmp_path: Path, umask: int, expected: int) -> None:
    path = tmp_path / "config.toml"
    previous = os.umask(umask)
    try:
        with config_lock(path):
            pass
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / ".config.toml.lock").stat().st_mode)
    assert mode == expected
    assert mode & 0o007 == 0
