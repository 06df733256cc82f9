"""Ticket tags in subjects: format, find, add without doubling."""

from __future__ import annotations

import pytest

from sagicc_tui.tickets import add_tag, find_tag_numbers, format_tag


def test_format_tag() -> None:
    assert format_tag(12) == "[#12]"
    assert format_tag(12, "ACME") == "[ACME#12]"


@pytest.mark.parametrize("prefix", ["AC ME", "ACME]", "ACME#", "ÄCME"])
def test_format_tag_invalid_prefix(prefix: str) -> None:
    with pytest.raises(ValueError, match="invalid ticket tag prefix"):
        format_tag(1, prefix)


def test_format_tag_invalid_number() -> None:
    with pytest.raises(ValueError, match="invalid ticket number 0"):
        format_tag(0)


def test_find_tag_numbers() -> None:
    assert find_tag_numbers("Re: Printer [#12]") == [12]
    assert find_tag_numbers("[#3] Printer [#12] [#3]") == [3, 12]
    assert find_tag_numbers("Printer #12") == []
    assert find_tag_numbers("Printer [# 12]") == []


def test_find_full_width_tag() -> None:
    assert find_tag_numbers("Printer ［＃１２］") == [12]


def test_find_tag_with_prefix() -> None:
    assert find_tag_numbers("Printer [ACME#7] [#8]", "ACME") == [7]
    assert find_tag_numbers("Printer [acme#7]", "ACME") == [7]
    assert find_tag_numbers("Printer [ACME#7]") == []


def test_add_tag_after_subject() -> None:
    assert add_tag("Printer broken", 5) == "Printer broken [#5]"
    assert add_tag("Printer broken", 5, "ACME") == "Printer broken [ACME#5]"


def test_add_tag_at_start() -> None:
    assert add_tag("Printer broken", 5, position="start") == "[#5] Printer broken"


def test_add_tag_no_doubling() -> None:
    once = add_tag("Re: Printer broken", 5)

    assert add_tag(once, 5) == once
    assert add_tag("[#5] Re: Printer", 5) == "[#5] Re: Printer"


def test_add_tag_replaces_other_ticket() -> None:
    assert add_tag("Fwd: Printer [#3]", 7) == "Fwd: Printer [#7]"
    assert add_tag("Printer [#7] [#3]", 7) == "Printer [#7]"


def test_add_tag_to_empty_subject() -> None:
    assert add_tag("", 5) == "[#5]"
