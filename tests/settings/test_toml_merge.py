"""Saving into an existing file keeps comments and the spelling of values."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sagicc_tui.settings import (
    Config,
    IncomingChannel,
    OutgoingChannel,
    load_config,
    save_config,
)

ANNOTATED = """\
# Team config, reviewed by Ada.
ticket_tag_prefix = "ACME"  # tag shown to customers

[key_bindings]
reply = "r"  # like mutt
quit = "q"

# The shared support inbox.
[[incoming]]
name = "support"
host = "imap.example.test"  # internal server
username = "support@example.test"
max_message_size = "25MB"   # Gmail's limit
import_existing = "30d"

[[incoming]]
name = "sales"
host = "imap.example.test"
username = "sales@example.test"
"""


def _write(tmp_path: Path, text: str = ANNOTATED) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_edit_keeps_comments(tmp_path: Path) -> None:
    path = _write(tmp_path)
    config = load_config(path)
    support = dataclasses.replace(config.incoming[0], port=10993)
    save_config(config.with_channel(support), path)

    text = path.read_text(encoding="utf-8")
    assert "# Team config, reviewed by Ada." in text
    assert "# The shared support inbox." in text
    assert 'host = "imap.example.test"  # internal server' in text
    assert "port = 10993" in text
    assert load_config(path).incoming[0].port == 10993


def test_unchanged_values_keep_spelling(tmp_path: Path) -> None:
    path = _write(tmp_path)
    config = load_config(path)
    save_config(dataclasses.replace(config, operator_name="Ada"), path)

    text = path.read_text(encoding="utf-8")
    assert 'max_message_size = "25MB"   # Gmail\'s limit' in text
    assert 'import_existing = "30d"' in text
    assert 'operator_name = "Ada"' in text


def test_removed_channel_and_binding_disappear(tmp_path: Path) -> None:
    path = _write(tmp_path)
    config = load_config(path).without_channel("sales")
    save_config(dataclasses.replace(config, key_bindings={"reply": "r"}), path)

    text = path.read_text(encoding="utf-8")
    assert "sales" not in text
    assert "quit" not in text
    assert 'reply = "r"  # like mutt' in text
    assert load_config(path) == dataclasses.replace(config, key_bindings={"reply": "r"})


def test_new_channels_appended(tmp_path: Path) -> None:
    path = _write(tmp_path)
    config = load_config(path)
    smtp = OutgoingChannel(
        "smtp", host="127.0.0.1", sender_address="s@example.test", signature="a\nb"
    )
    extra = IncomingChannel("billing", host="imap.example.test", username="b")
    changed = config.with_channel(extra).with_channel(smtp)
    save_config(changed, path)

    assert load_config(path) == changed
    assert "# The shared support inbox." in path.read_text(encoding="utf-8")


def test_reordered_channels_still_saved(tmp_path: Path) -> None:
    path = _write(tmp_path)
    config = load_config(path)
    reordered = dataclasses.replace(config, incoming=config.incoming[::-1])
    save_config(reordered, path)
    assert [c.name for c in load_config(path).incoming] == ["sales", "support"]


def test_unparsable_old_file_rewritten(tmp_path: Path) -> None:
    path = _write(tmp_path, "this is [not toml\n")
    save_config(Config(operator_name="Ada"), path)
    assert load_config(path) == Config(operator_name="Ada")


def test_new_keys_go_before_next_table_comment(tmp_path: Path) -> None:
    path = _write(tmp_path)
    config = load_config(path)
    bindings = {**config.key_bindings, "next_ticket": "j"}
    save_config(dataclasses.replace(config, key_bindings=bindings), path)

    text = path.read_text(encoding="utf-8")
    assert 'quit = "q"\nnext_ticket = "j"\n\n# The shared support inbox.' in text


def test_defaults_not_added_to_short_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    config = load_config(path)
    support = dataclasses.replace(config.incoming[0], port=143)
    save_config(config.with_channel(support), path)

    text = path.read_text(encoding="utf-8")
    assert "poll_interval" not in text
    assert "secret_backend" not in text
    assert 'import_existing = "30d"\nport = 143\n\n[[incoming]]' in text
