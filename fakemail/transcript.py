"""Protocol transcripts with credentials redacted, shared by the IMAP and SMTP sides.

``Transcript(target)`` appends one line per record to a file path or a text
or binary stream: ``<connection id> <C|S> <line>``. Redaction happens inside
``record`` so that no caller can leak a secret by forgetting it:

- IMAP ``tag LOGIN ...`` keeps only ``tag LOGIN``;
- IMAP ``tag AUTHENTICATE MECH ...`` and SMTP ``AUTH MECH ...`` keep the
  mechanism and drop the initial response;
- after either, every client line is a SASL response and is redacted until
  the server sends a line that is not a continuation (IMAP ``+``, SMTP
  ``334``).
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import BinaryIO, TextIO

REDACTED = "<redacted>"


class Transcript:
    """An append-only log of protocol lines, one file or stream per server run."""

    def __init__(self, target: str | Path | TextIO | BinaryIO) -> None:
        self._owned = isinstance(target, (str, Path))
        if isinstance(target, (str, Path)):
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            # The transcript contains no secrets but does contain customers'
            # mail headers, so only its owner may read it.
            self._stream: TextIO = open(  # noqa: SIM115
                path, "a", encoding="utf-8", opener=_private_opener
            )
        elif isinstance(target, io.TextIOBase):
            self._stream = target  # type: ignore[assignment]
        else:
            self._stream = io.TextIOWrapper(target, encoding="utf-8")  # type: ignore[arg-type]
        self._in_sasl: set[str] = set()
        self._lock = threading.Lock()

    def record(self, connection_id: str, direction: str, line: bytes) -> None:
        """Append ``line`` sent by the client ("C") or the server ("S")."""
        if direction not in ("C", "S"):
            raise ValueError(f"direction must be 'C' or 'S', not {direction!r}")
        text = line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        # One record per line, whatever the protocol line contains.
        text = text.replace("\r", "\\r").replace("\n", "\\n")
        if direction == "C":
            text = self._redact_client(connection_id, text)
        else:
            self._track_server(connection_id, text)
        with self._lock:
            self._stream.write(f"{connection_id} {direction} {text}\n")
            self._stream.flush()

    def close(self) -> None:
        """Close the file if this transcript opened it."""
        if self._owned:
            self._stream.close()

    def _redact_client(self, connection_id: str, text: str) -> str:
        if connection_id in self._in_sasl:
            return REDACTED
        # Split on any run of whitespace: a malformed command such as
        # "a1  LOGIN user pass" still carries the password, and it is
        # recorded before the parser rejects it.
        words = text.split()
        upper = [word.upper() for word in words[:3]]
        if upper[:1] == ["AUTH"]:
            self._in_sasl.add(connection_id)
            return " ".join(words[:2] + ([REDACTED] if len(words) > 2 else []))
        if "AUTHENTICATE" in upper:
            end = upper.index("AUTHENTICATE") + 2
            self._in_sasl.add(connection_id)
            return " ".join(words[:end] + ([REDACTED] if len(words) > end else []))
        if "LOGIN" in upper:
            end = upper.index("LOGIN") + 1
            return " ".join(words[:end] + [REDACTED])
        return text

    def _track_server(self, connection_id: str, text: str) -> None:
        if connection_id in self._in_sasl and not (
            text.startswith("+") or text.startswith("334")
        ):
            self._in_sasl.discard(connection_id)


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
