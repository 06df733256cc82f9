"""Our ticket tag in subjects: ``[#N]``, or ``[ACME#N]`` with a prefix."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.-]*")


def _check_prefix(prefix: str) -> None:
    if not _PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(
            f"invalid ticket tag prefix {prefix!r}: use only ASCII letters, "
            "digits, '.', '_' and '-'"
        )


def tag_pattern(prefix: str = "") -> re.Pattern[str]:
    """Compile a pattern for our tag; group 1 is the ticket number.

    The prefix is matched without regard to case. Full-width brackets, number
    sign and digits count too (NFKC maps them to ASCII), so the pattern works
    on the subject as received and keeps its positions.
    """
    _check_prefix(prefix)
    return re.compile(
        r"[\[［]" + re.escape(prefix) + r"[#＃]([0-9０-９]{1,18})[\]］]",
        re.IGNORECASE,
    )


def format_tag(number: int, prefix: str = "") -> str:
    """Return the tag for ticket ``number``, e.g. ``[#12]`` or ``[ACME#12]``."""
    _check_prefix(prefix)
    if number < 1:
        raise ValueError(f"invalid ticket number {number}: numbers start at 1")
    return f"[{prefix}#{number}]"


def find_tag_numbers(subject: str, prefix: str = "") -> list[int]:
    """Return the ticket numbers of our tags in ``subject``, first one first."""
    matches = tag_pattern(prefix).finditer(subject)
    numbers = [int(unicodedata.normalize("NFKC", m.group(1))) for m in matches]
    return list(dict.fromkeys(numbers))


def remove_tags(subject: str, prefix: str = "") -> str:
    """Return ``subject`` without any of our tags, spaces collapsed."""
    text = tag_pattern(prefix).sub(" ", subject)
    return " ".join(text.split())


def add_tag(
    subject: str,
    number: int,
    prefix: str = "",
    *,
    position: Literal["end", "start"] = "end",
) -> str:
    """Return ``subject`` carrying the tag of ticket ``number`` exactly once.

    A subject that already has that tag and no other comes back unchanged.
    Tags of other tickets are removed, because two of our tags in one subject
    would make the tag link ambiguous.
    """
    tag = format_tag(number, prefix)
    if find_tag_numbers(subject, prefix) == [number]:
        return subject

    text = (
        remove_tags(subject, prefix) if find_tag_numbers(subject, prefix) else subject
    )
    text = text.strip()
    if not text:
        return tag
    if position == "start":
        return f"{tag} {text}"
    return f"{text} {tag}"
