"""The engine lock: one process per store syncs mailboxes and sends the outbox."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sagicc_tui.paths import Paths, resolve_paths
from sagicc_tui.store.base import create_private_file


def engine_lock_path(store_file: Path) -> Path:
    """Return the lock file that sits next to ``store_file``."""
    return store_file.with_name(store_file.name + ".engine.lock")


class EngineLock:
    """An exclusive ``flock`` held while this process runs the engine.

    The kernel drops the lock when the process exits, however it ends, so
    a crashed engine does not block the next one. Children forked while
    the lock is held share it until they exit too. The file keeps the holder's
    PID for operators; it is informational only.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    close = release

    def __enter__(self) -> EngineLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def acquire_engine_lock(
    paths: Paths | None = None, *, store_file: Path | None = None
) -> EngineLock | None:
    """Take the engine lock of a store without waiting; None when another engine has it.

    ``store_file`` overrides the store of ``paths`` (default:
    ``resolve_paths()``). The lock is per open file description, so a
    second call in the same process also gets None while the first lock
    is held.
    """
    if store_file is None:
        store_file = (paths or resolve_paths()).store_file
    path = engine_lock_path(store_file)
    create_private_file(path)
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise

    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return EngineLock(path, fd)
