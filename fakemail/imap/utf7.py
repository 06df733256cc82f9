"""Modified UTF-7 folder names as IMAP puts them on the wire (RFC 3501 §5.1.3).

Printable US-ASCII other than ``&`` stands for itself, ``&`` is written
``&-``, and any other run of characters is UTF-16BE in base64 with ``,``
for ``/`` and no padding, between ``&`` and ``-``.
"""

from __future__ import annotations

import base64
import binascii


class Utf7Error(ValueError):
    """A folder name that is not valid modified UTF-7."""


def encode(name: str) -> bytes:
    """Encode a Unicode folder name for the wire."""
    out = bytearray()
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.extend(
                b"&" + base64.b64encode(data).rstrip(b"=").replace(b"/", b",") + b"-"
            )
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.extend(b"&-" if char == "&" else char.encode("ascii"))
        else:
            pending.append(char)
    flush()
    return bytes(out)


def decode(name: bytes) -> str:
    """Decode a wire folder name; raise Utf7Error when it is malformed."""
    out: list[str] = []
    position = 0
    while position < len(name):
        byte = name[position]
        if byte < 0x20 or byte > 0x7E:
            raise Utf7Error(f"folder name {name!r} contains a non-ASCII byte")
        if byte != 0x26:  # "&"
            out.append(chr(byte))
            position += 1
            continue
        end = name.find(b"-", position + 1)
        if end == -1:
            raise Utf7Error(f"folder name {name!r} has an unterminated '&' run")
        chunk = name[position + 1 : end]
        position = end + 1
        if not chunk:
            out.append("&")
            continue
        out.append(_decode_run(name, chunk))
    return "".join(out)


def _decode_run(name: bytes, chunk: bytes) -> str:
    padded = chunk.replace(b",", b"/") + b"=" * (-len(chunk) % 4)
    try:
        data = base64.b64decode(padded, validate=True)
        text = data.decode("utf-16-be")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise Utf7Error(f"folder name {name!r} has invalid modified UTF-7") from error
    if not text or any(0x20 <= ord(char) <= 0x7E for char in text):
        # RFC 3501 forbids encoding printable ASCII in base64, so the
        # same name cannot be spelled two ways.
        raise Utf7Error(f"folder name {name!r} encodes printable ASCII in base64")
    return text
