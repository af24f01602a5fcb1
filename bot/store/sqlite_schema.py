"""The SQLite store's schema and its migrations, so a data directory written by an earlier release keeps its data.

The schema version is SQLite's ``PRAGMA user_version``: 0 is the first release's schema (``BASELINE``, created as
it was then), and ``MIGRATIONS[n - 1]`` takes a database from version n - 1 to n. Each migration runs in one
``BEGIN IMMEDIATE`` transaction together with the version bump, so it applies completely or not at all, and a
second connection that opened the file meanwhile finds the work done.

Adding a migration: append a function, never edit one that has shipped, and add a fixture of the layout it
upgrades from to the upgrade test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from bot.ports import StoreVersionError

# Version 0, exactly as the first release created it (IF NOT EXISTS: a database of version 0 may hold it already).
BASELINE = """
CREATE TABLE IF NOT EXISTS presets (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (conversation TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chats (
    conversation TEXT NOT NULL, who TEXT NOT NULL, chat_id TEXT NOT NULL,
    PRIMARY KEY (conversation, who)
);
CREATE TABLE IF NOT EXISTS conversations (
    conversation TEXT NOT NULL, who TEXT NOT NULL, user_id TEXT NOT NULL, updated_at REAL NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (conversation, who)
);
CREATE TABLE IF NOT EXISTS markers (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS markers_by_expiry ON markers (expires_at);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL, body TEXT NOT NULL
);
"""

Migration = Callable[[sqlite3.Connection], None]


def _participants(db: sqlite3.Connection) -> None:
    """1: who has spoken in each conversation, so a user's listing keeps a group conversation after somebody
    else speaks there. Version 0 kept only each conversation's last speaker: that much is backfilled; who spoke
    before them cannot be recovered (they are added again when they next speak)."""
    db.execute(
        "CREATE TABLE participants (conversation TEXT NOT NULL, who TEXT NOT NULL, user_id TEXT NOT NULL, "
        "PRIMARY KEY (conversation, who, user_id))"
    )
    db.execute("CREATE INDEX participants_by_user ON participants (user_id)")
    db.execute(
        "INSERT INTO participants (conversation, who, user_id) SELECT conversation, who, user_id FROM conversations"
    )


def _reply_journal(db: sqlite3.Connection) -> None:
    """2: the reply journal, replies being written until they end (``ReplyJournal``). Nothing to carry over; the
    version says that data holding open replies needs a release that finishes them."""
    db.execute(
        "CREATE TABLE replies (reply_id TEXT PRIMARY KEY, owner TEXT NOT NULL, opened_at REAL NOT NULL, "
        "body TEXT NOT NULL, parts TEXT NOT NULL DEFAULT '[]', text TEXT NOT NULL DEFAULT '', "
        "final INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX replies_by_owner ON replies (owner, opened_at)")


MIGRATIONS: tuple[Migration, ...] = (_participants, _reply_journal)
LATEST = len(MIGRATIONS)


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def upgrade(db: sqlite3.Connection) -> None:
    """Bring the database (an autocommit connection) to ``LATEST``; StoreVersionError if it is newer."""
    found = version_of(db)
    if found > LATEST:
        raise StoreVersionError(
            f"the SQLite state was written by a newer charbridge (schema version {found}; this release knows up "
            f"to {LATEST}): run that release or a later one"
        )
    if found == 0:
        db.executescript(BASELINE)
    for number in range(found + 1, LATEST + 1):
        db.execute("BEGIN IMMEDIATE")  # the write lock first, then the version: another opener may have migrated
        try:
            if version_of(db) < number:
                MIGRATIONS[number - 1](db)
                db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
