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
_TRAILING_FWD = re.compile(r"\s*\((?:fwd|fw)\)\s*$", re.IGNORECASE)


def _strip_one_prefix(text: str) -> str | None:
    """Return ``text`` without its leading reply or forward prefix, or None."""
    match = _PREFIX.match(text)
    if match is None:
        return None
    if match.group("token").casefold() not in REPLY_FORWARD_PREFIXES:
        return None
    return text[match.end() :]


def _strip_one_bracket_tag(text: str) -> str | None:
    """Return ``text`` without a leading ``[EXT]``-style tag, or None.

    A tag is kept when nothing but prefixes would follow it, because then the
    tag is the only subject there is.
    """
    match = _BRACKET_TAG.match(text)
    if match is None:
        return None
    rest = text[match.end() :].strip()
    if not strip_prefixes(rest)[1]:
        return None
    return rest


def strip_prefixes(text: str) -> tuple[int, str]:
    """Remove leading reply/forward prefixes and bracketed tags, in any mix.

    Return how many reply/forward prefixes were removed and the rest of the
    text. Expects NFKC text with our ticket tags already removed.
    """
    count = 0
    rest = text.strip()
    while rest:
        stripped = _strip_one_prefix(rest)
        if stripped is not None:
            count += 1
            rest = stripped.strip()
            continue

        stripped = _strip_one_bracket_tag(rest)
        if stripped is None:
            break
        rest = stripped
    return count, rest


def _remove_trailing_fwd(text: str) -> str:
    while True:
        shorter = _TRAILING_FWD.sub("", text)
        if shorter == text or not shorter:
            return text
        text = shorter


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
    return count > 0 or _TRAILING_FWD.search(text) is not None
