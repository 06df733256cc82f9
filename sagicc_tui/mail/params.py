"""MIME header parameters with RFC 2231 continuations, keeping raw 8-bit bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

# name, optional "*N" section, optional "*" (extended), then the value.
_PARAMETER = re.compile(
    r';\s*([^\s;=*]+)(?:\*(\d+))?(\*)?\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)',
    re.DOTALL,
)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


@dataclass(slots=True, frozen=True)
class Parameter:
    """One parameter value.

    ``value`` is the text as written (raw 8-bit bytes as surrogate escapes),
    unless ``extended``: then ``data`` contains the RFC 2231 percent-decoded
    bytes and ``charset`` their declared charset (None when left empty).
    """

    value: str
    data: bytes = b""
    charset: str | None = None
    extended: bool = False


def _unquote(value: str) -> str:
    value = value.strip()
    if value.startswith('"'):
        value = value[1:-1] if value.endswith('"') and len(value) > 1 else value[1:]
        return _QUOTED_PAIR.sub(r"\1", value)
    return value


def parse_parameters(header_value: str) -> tuple[str, dict[str, Parameter]]:
    """Split ``type/subtype; name=value ...`` into the lower-case first token and
    parameters by lower-case name. Continuations ``name*0``, ``name*1*`` are
    joined in section order, and percent-encoded sections become bytes.
    """
    unfolded = header_value.replace("\r", "").replace("\n", "")
    first = unfolded.split(";", 1)[0].strip().lower()

    # Sections by name: (section number, extended, text).
    sections: dict[str, list[tuple[int, bool, str]]] = {}
    plain: dict[str, str] = {}
    for match in _PARAMETER.finditer(unfolded):
        name = match.group(1).lower()
        text = _unquote(match.group(4))
        if match.group(2) is None and not match.group(3):
            plain.setdefault(name, text)
            continue
        number = int(match.group(2) or 0)
        sections.setdefault(name, []).append((number, bool(match.group(3)), text))

    params = {name: Parameter(value=value) for name, value in plain.items()}
    for name, parts in sections.items():
        params[name] = _join_sections(sorted(parts, key=lambda part: part[0]))
    return first, params


def _join_sections(parts: list[tuple[int, bool, str]]) -> Parameter:
    """Join RFC 2231 sections; only the first extended one carries charset'lang'."""
    if not any(extended for _number, extended, _text in parts):
        return Parameter(value="".join(text for _number, _extended, text in parts))

    charset: str | None = None
    data = bytearray()
    for position, (_number, extended, text) in enumerate(parts):
        if extended and position == 0 and text.count("'") >= 2:
            charset, _language, text = text.split("'", 2)
        raw = text.encode("utf-8", "surrogateescape")
        data += unquote_to_bytes(raw) if extended else raw
    value = data.decode("ascii", "surrogateescape")
    return Parameter(
        value=value, data=bytes(data), charset=charset or None, extended=True
    )
