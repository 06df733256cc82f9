"""Hostile subjects: stacked tags and prefixes stay linear and keep real words."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sagicc_tui.tickets import has_reply_prefix, normalize_subject
from sagicc_tui.tickets import subject as subject_module


class _CountingPattern:
    """Wrap a compiled pattern and add up the characters handed to it."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.calls = 0
        self.characters = 0

    def _count(self, text: str, pos: int = 0) -> None:
        self.calls += 1
        self.characters += len(text) - pos

    def match(self, text: str, pos: int = 0, *args: Any) -> re.Match[str] | None:
        self._count(text, pos)
        return self.pattern.match(text, pos, *args)

    def search(self, text: str, pos: int = 0, *args: Any) -> re.Match[str] | None:
        self._count(text, pos)
        return self.pattern.search(text, pos, *args)

    def fullmatch(self, text: str, pos: int = 0, endpos: int | None = None) -> Any:
        self.calls += 1
        self.characters += (len(text) if endpos is None else endpos) - pos
        return self.pattern.fullmatch(
            text, pos, len(text) if endpos is None else endpos
        )

    def sub(self, replacement: Any, text: str, count: int = 0) -> str:
        self._count(text)
        return self.pattern.sub(replacement, text, count)


def test_bracket_tags_checked_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = _CountingPattern(subject_module._BRACKET_TAG)
    monkeypatch.setattr(subject_module, "_BRACKET_TAG", counting)

    tags = 16
    assert normalize_subject("[a]" * tags + " Hello") == "hello"

    # Each tag needs a constant number of looks; the recursive check once
    # made this 2**tags: 20 list tags took about 20 s.
    assert counting.calls <= 4 * tags


def test_trailing_fwd_scanned_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = _CountingPattern(subject_module._TRAILING_FWD)
    monkeypatch.setattr(subject_module, "_TRAILING_FWD", counting)
    subject = "Hello" + " (fwd)" * 2000

    assert normalize_subject(subject) == "hello"
    assert has_reply_prefix(subject)

    # Removing one "(fwd)" per pass over the whole text was quadratic.
    assert counting.characters <= 4 * len(subject)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[a]" * 200 + " Hello", "hello"),
        ("Re: " * 10_000 + "Hello", "hello"),
        ("Re[2]: " * 5_000 + "Hello", "hello"),
        ("[EXT] Re: [SPAM] Fwd: Hello", "hello"),
        ("Re: [EXT]", "[ext]"),
        ("[EXT] Re:", "[ext] re:"),
        ("Re: [EXT] Re:", "[ext] re:"),
        ("[a] [b] Re: [c]", "[c]"),
        ("[a][b]", "[b]"),
        ("Hello" + " (fwd)" * 5_000, "hello"),
        ("(fwd)", "(fwd)"),
        ("(fwd) (FW)", "(fwd)"),
        ("[" + "x" * 100_000 + "] Hello", "hello"),
        ("[" * 10_000 + "Hello", "[" * 10_000 + "hello"),
    ],
)
def test_pathological_subjects_normalize(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


@pytest.mark.parametrize(
    "subject",
    [
        "Request: new laptop",
        "Reference: 12",
        "Fwdx: hello",
        "Re hello",
        "Rechnung: 12",
        "Antwerp: office",
        "Re2: hello",
    ],
)
def test_real_words_never_stripped(subject: str) -> None:
    assert normalize_subject(subject) == subject.casefold()
    assert not has_reply_prefix(subject)
