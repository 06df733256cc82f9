"""The store's SQL schema as ordered migrations, tracked in ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3

# Times are REAL seconds since the epoch (UTC). Message-IDs are stored
# without angle brackets. Each migration runs inside one transaction and
# moves the database from version N-1 to N; never edit a released step,
# append a new one.
MIGRATIONS: list[str] = [
    # 1: channels, tickets, messages and what grouping and sync look up.
    """
    CREATE TABLE channels (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL DEFAULT 'incoming',
        encoding TEXT NOT NULL DEFAULT 'utf-8'
    );

    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        number INTEGER NOT NULL UNIQUE,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        customer_addr TEXT NOT NULL DEFAULT '',
        customer_name TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        normalized_subject TEXT NOT NULL DEFAULT '',
        tag TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        last_activity REAL NOT NULL,
        closed_at REAL,
        linked_ticket_id INTEGER REFERENCES tickets(id),
        merged_into_id INTEGER REFERENCES tickets(id),
        message_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX tickets_by_activity
        ON tickets (merged_into_id, last_activity DESC, id DESC);
    CREATE INDEX tickets_by_status
        ON tickets (status, merged_into_id, last_activity DESC, id DESC);
    CREATE INDEX tickets_by_channel
        ON tickets (channel_id, merged_into_id, last_activity DESC, id DESC);
    CREATE INDEX tickets_by_channel_status
        ON tickets (channel_id, status, merged_into_id, last_activity DESC, id DESC);
    CREATE INDEX tickets_by_customer
        ON tickets (channel_id, customer_addr, last_activity DESC);
    CREATE INDEX tickets_by_subject ON tickets (channel_id, normalized_subject);

    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        ticket_id INTEGER REFERENCES tickets(id),
        message_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        kind TEXT NOT NULL DEFAULT 'normal',
        from_addr TEXT NOT NULL DEFAULT '',
        from_name TEXT NOT NULL DEFAULT '',
        to_addrs TEXT NOT NULL DEFAULT '[]',
        cc_addrs TEXT NOT NULL DEFAULT '[]',
        reply_to TEXT NOT NULL DEFAULT '[]',
        participants TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        date REAL NOT NULL,
        arrived_at REAL NOT NULL,
        in_reply_to TEXT NOT NULL DEFAULT '[]',
        refs TEXT NOT NULL DEFAULT '[]',
        thread_index BLOB,
        flags TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        folder TEXT,
        uidvalidity INTEGER,
        uid INTEGER,
        size INTEGER NOT NULL DEFAULT 0,
        body_text TEXT NOT NULL DEFAULT '',
        attachments TEXT NOT NULL DEFAULT '[]',
        body_indexed INTEGER NOT NULL DEFAULT 0,
        UNIQUE (channel_id, message_id)
    );
    CREATE INDEX messages_by_ticket ON messages (ticket_id, date, id);
    CREATE INDEX messages_body_pending ON messages (id) WHERE body_indexed = 0;

    -- Raw bytes live apart so feed and conversation queries never read them.
    CREATE TABLE message_raw (
        message_row_id INTEGER PRIMARY KEY REFERENCES messages(id),
        raw BLOB NOT NULL
    );

    -- Every id a message names in In-Reply-To or References, so a parent
    -- stored after its reply finds the reply's ticket.
    CREATE TABLE message_refs (
        channel_id INTEGER NOT NULL,
        ref_id TEXT NOT NULL,
        message_row_id INTEGER NOT NULL REFERENCES messages(id)
    );
    CREATE INDEX message_refs_by_id ON message_refs (channel_id, ref_id);

    -- Outlook Thread-Index: the 22-byte root of each message's conversation.
    CREATE TABLE thread_roots (
        channel_id INTEGER NOT NULL,
        root BLOB NOT NULL,
        message_row_id INTEGER NOT NULL REFERENCES messages(id)
    );
    CREATE INDEX thread_roots_by_root ON thread_roots (channel_id, root);

    CREATE TABLE sync_cursors (
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        last_uid INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (channel_id, folder)
    );

    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        channel_id INTEGER,
        ticket_id INTEGER,
        message_row_id INTEGER
    );
    """,
    # 2: what consoles and the engine exchange: outbox, channel state,
    # audit log and the body search index.
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        ticket_id INTEGER REFERENCES tickets(id),
        message_row_id INTEGER REFERENCES messages(id),
        message_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (
            state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')
        ),
        mail_from TEXT NOT NULL,
        rcpt_to TEXT NOT NULL,
        raw BLOB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        created_by TEXT NOT NULL DEFAULT '',
        sent_at REAL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    CREATE INDEX outbox_by_ticket ON outbox (ticket_id);
    CREATE INDEX outbox_by_message ON outbox (message_row_id);

    CREATE TABLE channel_state (
        channel_id INTEGER PRIMARY KEY REFERENCES channels(id),
        state TEXT NOT NULL CHECK (state IN (
            'connecting', 'syncing', 'idle', 'backing-off', 'failed',
            'sign-in-needed'
        )),
        detail TEXT NOT NULL DEFAULT '',
        progress_done INTEGER,
        progress_total INTEGER,
        until REAL,
        error TEXT,
        updated_at REAL NOT NULL
    );

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        ticket_id INTEGER REFERENCES tickets(id),
        other_ticket_id INTEGER REFERENCES tickets(id),
        message_row_id INTEGER REFERENCES messages(id),
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_by_ticket ON events (ticket_id, at);

    -- One row per message, rowid = messages.id. The trigram tokenizer
    -- matches substrings in any script, including Chinese and Japanese
    -- text that has no spaces between words.
    CREATE VIRTUAL TABLE message_search USING fts5 (
        subject, customer, body, tokenize = 'trigram'
    );
    """,
    # 3: outbox lookups by creator and time, for acknowledgement rate limits.
    """
    CREATE INDEX outbox_by_creator ON outbox (created_by, created_at);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer sagicc than this one."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply every migration above the database's version up to ``target``.

    Each step and its version bump commit together, so a crash leaves the
    database at a whole version. The version is read again inside each
    step's write transaction, so two processes opening a new store at once
    apply each step once. Returns the version reached.
    """
    current = _checked_version(conn)
    while current < target:
        # executescript() would commit on its own; run the statements inside
        # an explicit transaction instead so the version bump is atomic.
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = _checked_version(conn)
            if current >= target:
                conn.execute("ROLLBACK")
                break
            for statement in _split_statements(MIGRATIONS[current]):
                conn.execute(statement)
            current += 1
            conn.execute(f"PRAGMA user_version = {current}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return current


def _checked_version(conn: sqlite3.Connection) -> int:
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"store schema version {current} is newer than this program's "
            f"{SCHEMA_VERSION}: upgrade sagicc before opening this store"
        )
    return current


def _split_statements(script: str) -> list[str]:
    """Split a script on statement boundaries, using SQLite's own completeness test."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not _only_comments(pending):
        statements.append(pending.strip())
    return statements


def _only_comments(text: str) -> bool:
    return all(
        not line.strip() or line.strip().startswith("--") for line in text.splitlines()
    )
