"""Make message-derived text safe to show on a terminal."""

from __future__ import annotations

# Characters a terminal acts on instead of drawing: C0 controls, DEL and C1
# controls. ESC starts colour, title and clipboard sequences, BEL rings, and
# U+009B is a one-byte CSI. The bidi embeddings, overrides and isolates
# reorder the rest of the line.
_C0 = range(0x00, 0x20)
_C1 = range(0x7F, 0xA0)
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_SINGLE_LINE = {code: _escape(code) for code in (*_C0, *_C1, *_BIDI)}
_MULTILINE = {
    code: text for code, text in _SINGLE_LINE.items() if chr(code) not in "\n\t"
}


def printable(text: str, *, multiline: bool) -> str:
    """Return ``text`` with every control character written as a visible escape.

    Each control character becomes its Python escape: ESC shows as ``\\x1b``,
    BEL as ``\\x07``, DEL as ``\\x7f``, a C1 control as ``\\x9b``, a bidi
    override as ``\\u202e``. With ``multiline`` a line break (LF or CRLF) and
    TAB stay as they are, so a body keeps its layout. Without it they are
    escaped too, so the result fits on one line.

    The result contains no control character apart from those kept, so
    applying the function twice changes nothing.

    NOTE: a backslash is kept as it is, so text that already reads ``\\x1b``
    looks the same as an escaped ESC.
    """
    if multiline:
        text = text.replace("\r\n", "\n")
        return text.translate(_MULTILINE)
    return text.translate(_SINGLE_LINE)


# ``json.dumps`` escapes only U+0000 to U+001F inside strings; these it passes.
_JSON_PASSED = {code: f"\\u{code:04x}" for code in (*_C1, *_BIDI)}


def escape_json_controls(document: str) -> str:
    """Return JSON from ``json.dumps`` with DEL, C1 and bidi controls escaped.

    The result decodes to the same value, because those characters can only
    occur inside JSON strings, where ``\\uXXXX`` stands for them.
    """
    return document.translate(_JSON_PASSED)
