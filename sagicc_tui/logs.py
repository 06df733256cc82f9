"""Logging to a rotating file under the log folder, with secrets redacted."""

from __future__ import annotations

import base64
import json
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from sagicc_tui.paths import Paths, resolve_paths
from sagicc_tui.settings.secret_store import known_secrets

REDACTED = "[redacted]"
MAX_LOG_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_QUOTED_OR_WORD = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+)"""

# Each pattern keeps group 1 and replaces the rest of the match. They cover
# wire logs of IMAP and SMTP, key=value pairs and HTTP headers.
_PATTERNS = [
    # IMAP: "a1 LOGIN user password" (either may be quoted). Upper case
    # only, as on the wire, so prose such as "login failed for x" stays.
    re.compile(rf"(\bLOGIN\s+{_QUOTED_OR_WORD}\s+){_QUOTED_OR_WORD}"),
    # IMAP AUTHENTICATE and SMTP AUTH with an initial response (PLAIN,
    # LOGIN, XOAUTH2, OAUTHBEARER): the response carries the credentials.
    re.compile(r"(\bAUTH(?:ENTICATE)?\s+[\w-]+\s+)\S+"),
    re.compile(r"(\bBearer\s+)[\w.~+/=-]+", re.IGNORECASE),
    re.compile(
        r"""(\b(?:password|passwd|pass|secret|client_secret|access_token|"""
        r"""refresh_token|token|authorization)["']?\s*[:=]\s*)"""
        + _QUOTED_OR_WORD.replace(r"\S+", r"[^\s,;}]+"),
        re.IGNORECASE,
    ),
]
# A line that is only a long base64 word is most likely a SASL response sent
# on its own line (SMTP AUTH LOGIN sends user and password that way).
_BASE64_LINE = re.compile(r"^(\s*(?:[CS]:|>>>|<<<|[<>])?\s*)[A-Za-z0-9+/]{12,}={0,2}$")


def redact(text: str, secrets: frozenset[str] | None = None) -> str:
    """Return ``text`` with known secrets and credential-like values hidden."""
    secrets = known_secrets() if secrets is None else secrets

    # Longest first, so a secret that contains another is hidden whole.
    forms = {form for secret in secrets for form in _shown_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, REDACTED)

    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)

    lines = [_BASE64_LINE.sub(r"\1" + REDACTED, line) for line in text.split("\n")]
    return "\n".join(lines)


def _shown_forms(secret: str) -> set[str]:
    """Return the ways a secret shows up in log text: as is, escaped, encoded.

    ``%r`` of a value, a list or an exception, JSON and bytes reprs escape
    quotes, backslashes and non-ASCII characters, so the plain text alone
    would not match them.
    """
    forms = {
        secret,
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret.encode())[2:-1],
        base64.b64encode(secret.encode()).decode().rstrip("="),
    }
    return {form for form in forms if form}


class RedactingFilter(logging.Filter):
    """Rewrite each record's message and traceback text through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A call with arguments that do not fit its format string must
            # not raise at the caller: log the parts instead.
            message = f"{record.msg!r} with arguments {record.args!r}"
        record.msg = redact(message)
        record.args = None

        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# Logs hold customer addresses and subjects: the owner and the group that
# shares SAGICC_HOME may read them (minus the umask), others never.
LOG_FILE_MODE = 0o660
LOG_DIR_MODE = 0o770


class _SagiccHandler(logging.handlers.RotatingFileHandler):
    """File handler of setup_logging, a subclass so that a rerun can replace it.

    Each log file, rotated ones included, is created with LOG_FILE_MODE
    minus the umask and without any permission for others.
    """

    def _open(self):  # type: ignore[no-untyped-def]
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        descriptor = os.open(self.baseFilename, flags, LOG_FILE_MODE)
        mode = os.fstat(descriptor).st_mode & 0o777
        if mode & 0o007:
            os.fchmod(descriptor, mode & ~0o007)
        return os.fdopen(descriptor, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(
    paths: Paths | None = None,
    level: int | str = logging.INFO,
    *,
    capture_exceptions: bool = True,
) -> Path:
    """Send all logging to ``log_dir/sagicc.log`` (rotating) and nowhere else.

    Returns the log file path. With ``capture_exceptions``, an uncaught
    exception is logged with its traceback to the file while the terminal
    gets one line naming the error and the log file. Calling it again
    replaces the handler from the previous call.
    """
    paths = resolve_paths() if paths is None else paths
    paths.log_dir.mkdir(parents=True, exist_ok=True, mode=LOG_DIR_MODE)
    handler = _SagiccHandler(
        paths.log_file,
        maxBytes=MAX_LOG_BYTES,
        backupCount=LOG_BACKUPS,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _SagiccHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)

    # Warnings, and logging's own "--- Logging error ---" traceback when a
    # write fails, would otherwise print on the terminal over the console.
    logging.captureWarnings(True)
    logging.raiseExceptions = False
    if capture_exceptions:
        sys.excepthook = _log_uncaught(paths.log_file)
    return paths.log_file


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def _log_uncaught(log_file: Path) -> ExceptHook:
    def hook(
        kind: type[BaseException],
        error: BaseException,
        traceback: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, traceback)
            return
        logging.getLogger("sagicc").critical(
            "uncaught error", exc_info=(kind, error, traceback)
        )
        message = redact(str(error)) or kind.__name__
        print(
            f"sagicc: unexpected error: {message} (details in {log_file})",
            file=sys.stderr,
        )

    return hook
