"""``TicketStore``: the one object engines and consoles open on the shared store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sagicc_tui.paths import Paths, resolve_paths
from sagicc_tui.store.actions import ActionMixin
from sagicc_tui.store.models import utc_now
from sagicc_tui.store.outbox import OutboxMixin
from sagicc_tui.store.sync_state import SyncStateMixin


class TicketStore(ActionMixin, OutboxMixin, SyncStateMixin):
    """The SQLite ticket store: reads for consoles, writes for consoles and the engine.

    Open one per process, or one per thread that needs its own connection.
    Every process reads the others' commits, and a console repaints when
    ``change_counter`` has moved.

    Files are created with mode 0660 minus the umask, so they are never
    readable by others. Operators who share ``SAGICC_HOME`` as different
    Unix users put it in a group-owned, setgid folder and run with umask
    002, which makes the store, its -wal and -shm files and the engine lock
    group-writable.
    """

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        paths: Paths | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> TicketStore:
        """Open (creating and migrating when needed) the store at ``path``.

        Without ``path`` the store is ``resolve_paths().store_file`` under
        ``SAGICC_HOME`` or the platform data folder.
        """
        if path is None:
            path = (paths or resolve_paths()).store_file
        return cls(path, clock=clock)

    def __enter__(self) -> TicketStore:
        return self
