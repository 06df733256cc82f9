"""Modified UTF-7 for IMAP mailbox names (RFC 3501 section 5.1.3)."""

from __future__ import annotations

import base64


def encode_mailbox(name: str) -> str:
    """Encode a Unicode mailbox name in modified UTF-7.

    Printable ASCII stays as is, except ``&``, which becomes ``&-``. Every
    run of other characters becomes ``&``, then the modified base64 of its
    UTF-16BE form (``,`` in place of ``/``, no padding), then ``-``.
    """
    parts: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be"))
            parts.append(
                "&" + encoded.decode("ascii").rstrip("=").replace("/", ",") + "-"
            )
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            parts.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(parts)


def decode_mailbox(name: str) -> str:
    """Decode a modified UTF-7 mailbox name; raise ValueError when malformed."""
    result: list[str] = []
    position = 0
    while position < len(name):
        char = name[position]
        if char != "&":
            result.append(char)
            position += 1
            continue

        end = name.find("-", position + 1)
        if end < 0:
            raise ValueError(
                f"invalid modified UTF-7 mailbox name {name!r}: '&' without '-'"
            )
        chunk = name[position + 1 : end]
        if not chunk:
            result.append("&")
        else:
            result.append(_decode_chunk(chunk, name))
        position = end + 1
    return "".join(result)


def _decode_chunk(chunk: str, name: str) -> str:
    padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
    try:
        return base64.b64decode(padded, validate=True).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(
            f"invalid modified UTF-7 mailbox name {name!r}: {error}"
        ) from error
