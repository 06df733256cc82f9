"""Atomic file replacement: readers see the old file or the new one, never half."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, *, new_mode: int = 0o666) -> None:
    """Replace ``path`` with ``data`` through a temporary file and a rename.

    The temporary file sits in the same folder, so the rename stays on one
    file system. It is created with mode 0600, so no other user can read it
    even briefly. Then it gets the old file's permission bits, or for a new
    file ``new_mode`` masked by the umask. A symlink is followed, so the
    target is replaced rather than the link. On any error the old file is
    left as it was and the temporary file is removed.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _final_mode(target, new_mode)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise

    _fsync_folder(target.parent)


def atomic_write_text(path: Path, text: str, *, new_mode: int = 0o666) -> None:
    """Replace ``path`` with ``text`` encoded as UTF-8 (see atomic_write_bytes)."""
    atomic_write_bytes(path, text.encode("utf-8"), new_mode=new_mode)


def _final_mode(target: Path, new_mode: int) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return new_mode & ~_current_umask()


def _current_umask() -> int:
    # os.umask can only be read by setting it, so set it back at once. A
    # thread creating a file in between would see 0o077, which is stricter.
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Flush the rename itself to disk, where the platform allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
