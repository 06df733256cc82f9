"""Byte decoding with declared charsets, their supersets and visible fallbacks."""

from __future__ import annotations

import codecs
from functools import lru_cache

from sagicc_tui.mail.record import RecordFlag

# Mail programs label text with a charset but write its superset (Outlook
# writes windows-1252 bytes and calls them iso-8859-1), so the superset is
# tried first and the declared charset second.
SUPERSETS: dict[str, tuple[str, ...]] = {
    "ascii": ("cp1252",),
    "latin_1": ("cp1252",),
    "iso8859-1": ("cp1252",),
    "iso8859-9": ("cp1254",),
    "iso8859-11": ("cp874",),
    "tis-620": ("cp874",),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "shift_jis": ("cp932",),
    "euc_kr": ("cp949",),
    "big5": ("big5hkscs",),
    "iso2022_jp": ("iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3"),
}

# Labels seen in mail that Python's codec registry does not know.
_LABEL_ALIASES = {
    "windows-874": "cp874",
    "x-sjis": "cp932",
    "x-euc-jp": "euc_jp",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-roman": "mac_roman",
}

# Codecs that Python accepts as text encodings but which no mail program uses
# for text, and which would interpret backslashes or always fail.
_NOT_MAIL_CHARSETS = frozenset(
    {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"}
)


def normalize_charset(label: str | None) -> str | None:
    """Return Python's codec name for a MIME charset label, or None if unknown."""
    if not label:
        return None
    cleaned = label.strip().strip("\"'").strip().lower()

    # RFC 2231 allows a language after an asterisk: utf-8*en.
    cleaned = cleaned.split("*", 1)[0]
    if not cleaned:
        return None
    return _lookup(cleaned)


@lru_cache(maxsize=256)
def _lookup(cleaned: str) -> str | None:
    try:
        info = codecs.lookup(_LABEL_ALIASES.get(cleaned, cleaned))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CHARSETS:
        return None
    return info.name


def candidate_codecs(label: str | None) -> tuple[str, ...]:
    """Return the codecs to try for a declared charset, superset first."""
    name = normalize_charset(label)
    if name is None:
        return ()
    return (*SUPERSETS.get(name, ()), name)


def _channel_codec(channel: str) -> str:
    return normalize_charset(channel) or "utf-8"


def _try_strict(data: bytes, codec_names: tuple[str, ...]) -> str | None:
    for name in codec_names:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


# Below this many bytes charset_normalizer guesses wildly: with version 3.5.3
# a 4-byte sample came back as UTF-16 and 44 bytes of KOI8-R as Shift_JIS.
# Samples of about 70 bytes in four charsets were all detected correctly.
_MIN_DETECTION_BYTES = 48


def _detect(data: bytes) -> str | None:
    if len(data) < _MIN_DETECTION_BYTES:
        return None

    # Imported here: detection is rare and the headers pass must stay fast.
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return None
    return str(best)


def _mostly_utf8(data: bytes) -> str | None:
    """Return ``data`` as UTF-8 with U+FFFD for bad bytes, if most of it is UTF-8.

    "Most" means at least four valid non-ASCII characters for every
    replaced one, which single-byte text almost never reaches by chance.
    """
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    valid = sum(1 for char in text if char > "\x7f") - replaced
    return text if valid >= 4 * replaced else None


def decode_fallback(data: bytes, channel: str, flags: set[RecordFlag]) -> str:
    """Decode with the channel encoding, then UTF-8, then detection, then U+FFFD.

    UTF-8 text with a few damaged bytes stays UTF-8 with those bytes
    replaced, because detection would pick a single-byte charset and garble
    every other character. Detection only runs on samples long enough to be
    recognised. Adds ``DECODE_REPLACED`` when replacement characters had to
    be used.
    """
    channel_codec = _channel_codec(channel)
    text = _try_strict(data, (channel_codec, "utf-8"))
    if text is not None:
        return text

    text = _mostly_utf8(data)
    if text is not None:
        flags.add(RecordFlag.DECODE_REPLACED)
        return text

    text = _detect(data)
    if text is not None:
        return text

    flags.add(RecordFlag.DECODE_REPLACED)
    return data.decode(channel_codec, errors="replace")


def _is_seven_bit_stateful(codec_names: tuple[str, ...]) -> bool:
    """Return True for codecs whose ASCII bytes are not ASCII text (ISO-2022, UTF-7)."""
    return any(
        name.startswith("iso2022") or name in ("utf-7", "hz") for name in codec_names
    )


def decode_bytes(
    data: bytes, declared: str | None, channel: str, flags: set[RecordFlag]
) -> str:
    """Decode text bytes labelled with ``declared`` (may be None).

    Pure ASCII needs no label. Otherwise the declared charset's superset and
    the charset itself are tried; a missing, unknown or failing label adds
    ``CHARSET_FALLBACK`` and falls back to :func:`decode_fallback`.
    """
    candidates = candidate_codecs(declared)
    if data.isascii() and not _is_seven_bit_stateful(candidates):
        return data.decode("ascii")

    text = _try_strict(data, candidates)
    if text is not None:
        return text

    flags.add(RecordFlag.CHARSET_FALLBACK)
    return decode_fallback(data, channel, flags)


def decode_raw_header(data: bytes, channel: str, flags: set[RecordFlag]) -> str:
    """Decode an unencoded 8-bit header value, which is read in the channel encoding.

    The channel encoding is the documented rule for such headers, so success
    adds no flag. When it fails, ``CHARSET_FALLBACK`` is added.
    """
    text = _try_strict(data, (_channel_codec(channel),))
    if text is not None:
        return text

    flags.add(RecordFlag.CHARSET_FALLBACK)
    return decode_fallback(data, channel, flags)
