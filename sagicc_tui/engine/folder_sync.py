"""Sync one folder: new UIDs into the store in batches, then after-import."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from sagicc_tui.engine.clock import Clock
from sagicc_tui.engine.errors import CommandFailed
from sagicc_tui.engine.imap import ImapClient, uid_set
from sagicc_tui.engine.imapparse import MailboxStatus
from sagicc_tui.engine.parsing import attach_records
from sagicc_tui.settings.models import AfterImport, ImportMode, IncomingChannel
from sagicc_tui.store import IngestItem, TicketStore
from sagicc_tui.store.ingest import IngestCursor, IngestParams, IngestResult, ingest

log = logging.getLogger(__name__)

# UIDs per FETCH. aioimaplib rescans a response's lines for every line it
# reads, so a FETCH of n messages costs O(n^2); about 100 keeps that small.
BATCH_SIZE = 100

# After a UIDVALIDITY change on a channel that imports no existing mail, the
# rescan looks this many days back for mail that arrived since the last sync.
RESCAN_DAYS_WITHOUT_IMPORT = 30

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class PassResult:
    """Counts from one pass: messages stored, duplicates skipped, UIDs handled."""

    stored: int = 0
    duplicates: int = 0
    uids: int = 0


def imap_date(day: dt.date) -> str:
    """Format a date for SEARCH SINCE (``5-Jan-2026``)."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


class FolderSync:
    """Imports one channel's folder by UID, with the cursor kept in the store."""

    def __init__(
        self,
        channel: IncomingChannel,
        store: TicketStore,
        params: IngestParams,
        *,
        clock: Clock,
        executor: Executor | None = None,
        on_progress: Progress | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.channel = channel
        self.store = store
        self.params = params
        self.clock = clock
        self.executor = executor
        self.on_progress = on_progress
        self.stopping = stopping or (lambda: False)

    async def run_pass(self, client: ImapClient, status: MailboxStatus) -> PassResult:
        """Import every UID past the cursor, or on a first sync what the channel picks.

        The cursor advances in the same transaction as each batch's messages.
        After a UIDVALIDITY change the folder is rescanned and ingest skips
        every Message-ID the channel already has, so nothing is stored twice.
        """
        channel, folder = self.channel, self.channel.folder
        cursor = self.store.get_cursor(channel.name, folder)
        baseline = (status.uidnext - 1) if status.uidnext else 0
        if cursor is None:
            uids = await self._first_sync_uids(client)
        elif cursor.uidvalidity != status.uidvalidity:
            log.warning(
                "channel %s: UIDVALIDITY of %s changed from %d to %d; rescanning",
                channel.name,
                folder,
                cursor.uidvalidity,
                status.uidvalidity,
            )
            uids = await self._rescan_uids(client)
        else:
            found = await client.uid_search("UID", f"{cursor.last_uid + 1}:*")
            # "n:*" also matches the highest UID when it is below n.
            uids = sorted(uid for uid in found if uid > cursor.last_uid)
            baseline = cursor.last_uid

        result = PassResult(uids=len(uids))
        complete = await self._import(client, status.uidvalidity, uids, result)
        if complete:
            self._advance_cursor(status.uidvalidity, max([baseline, *uids]))
        return result

    def _advance_cursor(self, uidvalidity: int, last: int) -> None:
        current = self.store.get_cursor(self.channel.name, self.channel.folder)
        if current and current.uidvalidity == uidvalidity and current.last_uid >= last:
            return
        self.store.set_cursor(
            self.channel.name,
            self.channel.folder,
            uidvalidity,
            last,
            now=self.clock.now(),
        )

    async def _first_sync_uids(self, client: ImapClient) -> list[int]:
        policy = self.channel.import_existing
        if policy.mode is ImportMode.NONE:
            return []
        if policy.mode is ImportMode.ALL:
            return sorted(await client.uid_search("ALL"))
        cutoff = policy.cutoff(self.clock.now().date())
        return sorted(await client.uid_search("SINCE", imap_date(cutoff)))

    async def _rescan_uids(self, client: ImapClient) -> list[int]:
        policy = self.channel.import_existing
        if policy.mode is ImportMode.ALL:
            return sorted(await client.uid_search("ALL"))
        today = self.clock.now().date()
        cutoff = policy.cutoff(today)
        if cutoff is None:
            cutoff = today - dt.timedelta(days=RESCAN_DAYS_WITHOUT_IMPORT)
        # NOTE: a message copied in with an INTERNALDATE before the cutoff
        # during the gap before a UIDVALIDITY change is not found again.
        return sorted(await client.uid_search("SINCE", imap_date(cutoff)))

    async def _import(
        self, client: ImapClient, uidvalidity: int, uids: list[int], result: PassResult
    ) -> bool:
        """Fetch batch n+1 while batch n is parsed and stored, in UID order.

        Return False when ``stopping`` ended the pass early: the cursor then
        covers only the batches stored.
        """
        total = len(uids)
        done = 0
        pending: asyncio.Future[list[IngestResult]] | None = None
        pending_uids: list[int] = []
        try:
            complete = True
            for start in range(0, total, BATCH_SIZE):
                if self.stopping():
                    complete = False
                    break
                batch = uids[start : start + BATCH_SIZE]
                items, header_only, sizes = await self._fetch_batch(client, batch)
                if pending is not None:
                    done += await self._finish(client, pending, pending_uids, result)
                    pending = None
                    self._report(done, total)
                pending = asyncio.ensure_future(
                    self._parse_and_store(
                        items, header_only, sizes, uidvalidity, max(batch)
                    )
                )
                pending_uids = [item.uid for item in items if item.uid is not None]
            if pending is not None:
                done += await self._finish(client, pending, pending_uids, result)
                pending = None
                self._report(total if complete else done, total)
            return complete
        finally:
            if pending is not None:
                # Let a batch already handed to the store commit or fail
                # before the connection error propagates.
                # NOTE: its after-import action is then not applied.
                await asyncio.gather(pending, return_exceptions=True)

    async def _parse_and_store(
        self,
        items: list[IngestItem],
        header_only: set[int],
        sizes: dict[int, int],
        uidvalidity: int,
        last_uid: int,
    ) -> list[IngestResult]:
        """Parse a batch (in worker processes when large), then store it.

        Runs as a task while the next batch is fetched.
        """
        await attach_records(
            items,
            header_only,
            encoding=self.channel.encoding,
            max_size=self.channel.max_message_size,
            sizes=sizes,
            executor=self.executor,
        )
        cursor = IngestCursor(self.channel.folder, uidvalidity, last_uid)
        return await asyncio.to_thread(
            ingest, self.store, self.params, items, cursor=cursor, now=self.clock.now()
        )

    async def _finish(
        self,
        client: ImapClient,
        pending: asyncio.Future[list[IngestResult]],
        uids: list[int],
        result: PassResult,
    ) -> int:
        results = await pending
        result.stored += sum(1 for item in results if item.stored)
        result.duplicates += sum(1 for item in results if not item.stored)
        if uids:
            # Only now are the messages committed, so changing the mailbox
            # cannot lose one.
            await self.after_import(client, uids)
        return len(uids)

    def _report(self, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(min(done, total), total)

    async def _fetch_batch(
        self, client: ImapClient, batch: Sequence[int]
    ) -> tuple[list[IngestItem], set[int], dict[int, int]]:
        wanted = set(batch)
        listing = await client.uid_fetch(uid_set(batch), "(UID RFC822.SIZE)")
        sizes = {
            m.uid: m.size for m in listing if m.uid in wanted and m.size is not None
        }
        limit = self.channel.max_message_size
        small = [uid for uid in batch if uid in sizes and sizes[uid] <= limit]
        large = {uid for uid in batch if uid in sizes and sizes[uid] > limit}

        fetched = []
        if small:
            items = "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])"
            fetched += await client.uid_fetch(uid_set(small), items)
        if large:
            items = "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])"
            fetched += await client.uid_fetch(uid_set(large), items)
        got = {m.uid: m for m in fetched if m.uid in wanted and m.body is not None}

        await self._check_missing(client, wanted - got.keys())
        items = [
            IngestItem(raw=got[uid].body, uid=uid, internaldate=got[uid].internal_date)
            for uid in sorted(got)
        ]
        return items, large, sizes

    async def _check_missing(self, client: ImapClient, missing: set[int]) -> None:
        """Raise when the server kept back messages that still exist.

        A tagged OK without the requested data must not advance the cursor
        past those UIDs; UIDs that are gone were expunged meanwhile.
        """
        if not missing:
            return
        still_there = set(await client.uid_search("UID", uid_set(missing)))
        if still_there:
            raise CommandFailed(
                f"the server returned OK to UID FETCH but not the messages "
                f"with UIDs {uid_set(still_there)} in {self.channel.folder!r}",
                host=client.endpoint.host,
                port=client.endpoint.port,
                fix="The engine retries; if this repeats, check the server's logs",
            )
        log.info(
            "channel %s: UIDs %s were expunged before they were fetched",
            self.channel.name,
            uid_set(missing),
        )

    async def after_import(self, client: ImapClient, uids: list[int]) -> None:
        """Apply the channel's after-import setting to stored messages."""
        action = self.channel.after_import
        if action is AfterImport.LEAVE:
            return
        spec = uid_set(uids)
        if action is AfterImport.SEEN:
            await client.uid_store(spec, "+FLAGS.SILENT", "\\Seen")
        elif action is AfterImport.MOVE:
            await self._move(client, spec)
        elif action is AfterImport.DELETE:
            await client.uid_store(spec, "+FLAGS.SILENT", "\\Deleted")
            await client.uid_expunge(spec)

    async def _move(self, client: ImapClient, spec: str) -> None:
        target = self.channel.move_to_folder
        if "MOVE" in client.capabilities:
            await client.uid_move(spec, target)
            return
        await client.uid_copy(spec, target)
        await client.uid_store(spec, "+FLAGS.SILENT", "\\Deleted")
        # Without UIDPLUS this is a plain EXPUNGE, which also removes mail
        # another client flagged \Deleted in this folder.
        await client.uid_expunge(spec)
