"""Subject normalization: reply and forward prefixes, list tags and our tag removed."""

from __future__ import annotations

import re
import unicodedata

from sagicc_tui.tickets.tag import tag_pattern

# Reply and forward prefixes that mail clients write, compared case-folded.
# Only a whole token followed by a colon is a prefix, so "Request:" or
# "Antwerp:" stay. Most tokens come from Wikipedia's "List of email subject
# abbreviations"; "R" is Italian Outlook's reply prefix.
REPLY_FORWARD_PREFIXES = frozenset(
    token.casefold()
    for token in (
        # Latin script
        "Re",
        "R",  # Italian risposta
        "Fwd",
        "Fw",
        "AW",  # German Antwort
        "WG",  # German weitergeleitet
        "SV",  # Danish, Norwegian, Swedish, Icelandic svar
        "VS",  # Danish, Norwegian videresendt; Finnish vastaus
        "VB",  # Swedish vidarebefordrat
        "VL",  # Finnish välitetty
        "Antw",  # Dutch antwoord
        "Doorst",  # Dutch doorsturen
        "RV",  # Spanish reenviado
        "TR",  # French transféré
        "RIF",  # Italian riferimento
        "ENC",  # Portuguese encaminhado
        "RES",  # Portuguese resposta
        "Odp",  # Polish odpowiedź, Czech odpověď
        "PD",  # Polish przekaż dalej
        "YNT",  # Turkish yanıt
        "İLT",  # Turkish ilet
        "VÁ",  # Hungarian válasz
        "TOV",  # Hungarian továbbítás
        # Cyrillic
        "Ответ",
        "Отв",
        "Пересл",
        # Greek
        "ΑΠ",
        "ΣΧΕΤ",
        "ΠΡΘ",
        # Hebrew and Arabic
        "השב",
        "תשובה",
        "הועבר",
        "رد",
        # Chinese, Japanese, Korean
        "回复",
        "回覆",
        "答复",
        "答覆",
        "转发",
        "轉寄",
        "轉發",
        "返信",
        "転送",
        "회신",
        "전달",
        "답장",
    )
)

# A token, an optional reply counter ("Re[2]", "Re^2", "Re(2)"), then a colon.
# NFKC has already turned a full-width colon into ":".
_PREFIX = re.compile(
    r"(?P<token>[^\W\d_]+)"
    r"\s*(?:\[\d+\]|\^\d+|\(\d+\))?"
    r"\s*:"
)
_BRACKET_TAG = re.compile(r"\[[^\[\]]*\]")
_TRAILING_FWD = re.compile(r"\((?:fwd|fw)\)", re.IGNORECASE)


def _prefix_end(text: str, pos: int) -> int | None:
    """Return where the reply or forward prefix at ``pos`` ends, or None."""
    match = _PREFIX.match(text, pos)
    if match is None:
        return None
    if match.group("token").casefold() not in REPLY_FORWARD_PREFIXES:
        return None
    return match.end()


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def strip_prefixes(text: str) -> tuple[int, str]:
    """Remove leading reply/forward prefixes and bracketed tags, in any mix.

    Return how many reply/forward prefixes were removed and the rest of the
    text. Expects NFKC text with our ticket tags already removed. A
    bracketed tag is kept when nothing but prefixes and tags would follow
    it, because then the last tag is the only subject there is.
    """
    # One pass over the leading items. Deciding each tag by stripping the
    # rest again made stacked tags cost 2**n steps.
    rest = text.strip()
    pos = 0
    prefixes = 0
    last_tag: tuple[int, int] | None = None  # (start, prefixes before it)
    while pos < len(rest):
        end = _prefix_end(rest, pos)
        if end is not None:
            prefixes += 1
            pos = _skip_spaces(rest, end)
            continue
        match = _BRACKET_TAG.match(rest, pos)
        if match is None:
            break
        last_tag = (pos, prefixes)
        pos = _skip_spaces(rest, match.end())

    if pos == len(rest) and last_tag is not None:
        start, prefixes = last_tag
        return prefixes, rest[start:]
    return prefixes, rest[pos:]


def _end_before_spaces(text: str, end: int) -> int:
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end


def _trailing_fwd_start(text: str) -> int:
    """Return where the run of trailing ``(fwd)`` or ``(fw)`` marks begins.

    Returns the end of the text without trailing spaces when it ends with
    no such mark. Works back from the end, so each character is read once.
    """
    start = _end_before_spaces(text, len(text))
    while True:
        opening = text.rfind("(", 0, start)
        if opening < 0 or not _TRAILING_FWD.fullmatch(text, opening, start):
            return start
        start = _end_before_spaces(text, opening)


def _remove_trailing_fwd(text: str) -> str:
    start = _trailing_fwd_start(text)
    if start > 0:
        return text[:start]

    # A subject made only of marks keeps the first one as its subject.
    first = _TRAILING_FWD.match(text, _skip_spaces(text, 0))
    return text[: first.end()] if first else text


def normalize_subject(subject: str, tag_prefix: str = "") -> str:
    """Reduce a decoded subject to the key that grouping compares.

    Applies NFKC, removes our ticket tag (with ``tag_prefix``) anywhere, then
    stacked reply/forward prefixes and leading bracketed tags in any order,
    and a trailing "(fwd)". Whitespace is collapsed and the result
    case-folded.
    """
    text = unicodedata.normalize("NFKC", subject)
    text = tag_pattern(tag_prefix).sub(" ", text)
    text = " ".join(text.split())

    _, text = strip_prefixes(text)
    text = _remove_trailing_fwd(text)
    return " ".join(text.split()).casefold()


def has_reply_prefix(subject: str, tag_prefix: str = "") -> bool:
    """Tell whether the subject starts with a reply or forward prefix.

    Leading bracketed tags before the prefix are skipped, as are our tags.
    """
    text = unicodedata.normalize("NFKC", subject)
    text = " ".join(tag_pattern(tag_prefix).sub(" ", text).split())
    count, _ = strip_prefixes(text)
    ends_with_fwd = _trailing_fwd_start(text) < len(text.rstrip())
    return count > 0 or ends_with_fwd
