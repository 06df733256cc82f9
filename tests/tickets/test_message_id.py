"""Signed Message-IDs: ours verify, forged or foreign ones do not."""

from __future__ import annotations

import pytest

from sagicc_tui.tickets import make_message_id, verify_message_id

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def test_round_trip() -> None:
    message_id = make_message_id("help.example.com", 42, KEY)

    assert message_id.startswith("sagicc.42.")
    assert message_id.endswith("@help.example.com")
    assert verify_message_id(message_id, KEY) == 42


def test_angle_brackets_accepted() -> None:
    message_id = make_message_id("help.example.com", 42, KEY)

    assert verify_message_id(f"<{message_id}>", KEY) == 42


def test_ids_are_unique() -> None:
    ids = {make_message_id("help.example.com", 1, KEY) for _ in range(50)}

    assert len(ids) == 50


def test_unique_part_is_used() -> None:
    message_id = make_message_id("help.example.com", 3, KEY, unique="reply-1")

    assert message_id.startswith("sagicc.3.reply-1.")
    assert message_id == make_message_id("help.example.com", 3, KEY, unique="reply-1")


def test_other_key_rejected() -> None:
    message_id = make_message_id("help.example.com", 42, KEY)

    assert verify_message_id(message_id, OTHER_KEY) is None


def test_changed_ticket_rejected() -> None:
    message_id = make_message_id("help.example.com", 42, KEY)

    assert (
        verify_message_id(message_id.replace("sagicc.42.", "sagicc.43."), KEY) is None
    )


def test_changed_domain_rejected() -> None:
    message_id = make_message_id("help.example.com", 42, KEY)
    moved = message_id.replace("@help.example.com", "@evil.example")

    assert verify_message_id(moved, KEY) is None


def test_domain_case_ignored() -> None:
    message_id = make_message_id("Help.Example.com", 42, KEY)

    assert verify_message_id(message_id.lower(), KEY) == 42


@pytest.mark.parametrize(
    "message_id",
    [
        "a1@customer.example",
        "sagicc.42.abc.notahash@help.example.com",
        "sagicc.0.abc.aaaaaaaaaaaaaaaaaaaaaaaaaa@help.example.com",
        "",
    ],
)
def test_foreign_ids_rejected(message_id: str) -> None:
    assert verify_message_id(message_id, KEY) is None


def test_short_key_raises() -> None:
    with pytest.raises(ValueError, match="key too short: 5 bytes"):
        make_message_id("help.example.com", 1, b"short")


@pytest.mark.parametrize("domain", ["", "bad domain", "a@b", "-x.example"])
def test_invalid_domain_raises(domain: str) -> None:
    with pytest.raises(ValueError, match="invalid Message-ID domain"):
        make_message_id(domain, 1, KEY)


@pytest.mark.parametrize("unique", ["", "a.b", "a\r\nBcc: x", "x" * 65])
def test_invalid_unique_raises(unique: str) -> None:
    with pytest.raises(ValueError, match="invalid Message-ID unique part"):
        make_message_id("help.example.com", 1, KEY, unique=unique)
