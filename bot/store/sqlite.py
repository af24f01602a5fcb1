"""The embedded state store: one SQLite file under the data directory.

sqlite3 calls run in a worker thread (one connection, serialised by a lock) so the event loop never blocks; a
file that stays locked or fails to read or write raises ``StoreUnavailable`` (``bot.store.reachability``).
Opening the store brings a file written by an earlier release up to date first (``sqlite_schema``). Markers and
values are filed under their key's text (``bot.keys``).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.keys import MarkerKey, ValueKey
from bot.models import AuditEntry, Binding, ConversationRecord, Preset, ReplyRecord
from bot.ports import StateStore
from bot.store.reachability import Reachability
from bot.store.sqlite_schema import upgrade

T = TypeVar("T")

# SQLite's primary result codes for a file we cannot use now: locked by another connection (past the busy
# timeout), a read or write that failed, a full disk, a file that cannot be opened.
UNREACHABLE_CODES = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN}
)


def unreachable(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorcode & 0xFF in UNREACHABLE_CODES


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """Several statements as one (the connection autocommits otherwise)."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class SqliteStateStore(StateStore):
    """``clock`` gives the time in epoch seconds: when a conversation was updated, when markers and values
    expire. ``busy_timeout``: seconds a call waits for a lock another connection holds on the file."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time, busy_timeout: float = 5.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # Every commit is on disk (the WAL synced) when the call returns: the reply journal relies on it.
            self._db.execute("PRAGMA synchronous=FULL")
            upgrade(self._db)
        except BaseException:
            self._db.close()
            raise
        self._lock = asyncio.Lock()
        self._clock = clock
        self.reachability = Reachability(unreachable)

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await self.reachability.call(asyncio.to_thread(fn, self._db))

    async def _rows(self, sql: str, *args: object) -> list[tuple[str, ...]]:
        return await self._call(lambda db: db.execute(sql, args).fetchall())

    async def _write(self, sql: str, *args: object) -> int:
        return await self._call(lambda db: db.execute(sql, args).rowcount)

    # presets
    async def get_preset(self, name: str) -> Preset | None:
        rows = await self._rows("SELECT body FROM presets WHERE name = ?", name)
        return Preset.model_validate_json(rows[0][0]) if rows else None

    async def put_preset(self, preset: Preset) -> None:
        await self._write(
            "INSERT OR REPLACE INTO presets (name, body) VALUES (?, ?)", preset.name, preset.model_dump_json()
        )

    async def delete_preset(self, name: str) -> bool:
        return await self._write("DELETE FROM presets WHERE name = ?", name) > 0

    async def list_presets(self) -> list[Preset]:
        rows = await self._rows("SELECT body FROM presets ORDER BY name")
        return [Preset.model_validate_json(r[0]) for r in rows]

    # bindings
    async def get_binding(self, conversation: str) -> Binding | None:
        rows = await self._rows("SELECT body FROM bindings WHERE conversation = ?", conversation)
        return Binding.model_validate_json(rows[0][0]) if rows else None

    async def put_binding(self, binding: Binding) -> None:
        await self._write(
            "INSERT OR REPLACE INTO bindings (conversation, body) VALUES (?, ?)",
            binding.conversation,
            binding.model_dump_json(),
        )

    async def delete_binding(self, conversation: str) -> bool:
        return await self._write("DELETE FROM bindings WHERE conversation = ?", conversation) > 0

    async def list_bindings(self) -> list[Binding]:
        rows = await self._rows("SELECT body FROM bindings ORDER BY conversation")
        return [Binding.model_validate_json(r[0]) for r in rows]

    # upstream chat ids
    async def get_chat_id(self, conversation: str, who: str) -> str | None:
        rows = await self._rows("SELECT chat_id FROM chats WHERE conversation = ? AND who = ?", conversation, who)
        return rows[0][0] if rows else None

    async def set_chat_id(self, conversation: str, who: str, chat_id: str) -> None:
        await self._write(
            "INSERT OR REPLACE INTO chats (conversation, who, chat_id) VALUES (?, ?, ?)",
            conversation,
            who,
            chat_id,
        )

    async def clear_chat_ids(self, conversation: str) -> int:
        return await self._write("DELETE FROM chats WHERE conversation = ?", conversation)

    async def list_chat_ids(self, conversation: str) -> dict[str, str]:
        rows = await self._rows("SELECT who, chat_id FROM chats WHERE conversation = ?", conversation)
        return {row[0]: row[1] for row in rows}

    # conversation activity
    async def record_turn(self, conversation: str, who: str, user_id: str, preset: str, last_message: str) -> None:
        now = datetime.fromtimestamp(self._clock(), UTC)

        def record(db: sqlite3.Connection) -> None:
            with _transaction(db):
                _record(db, conversation, who, user_id, preset, last_message, now)

        await self._call(record)

    async def get_conversation(self, conversation: str, who: str) -> ConversationRecord | None:
        rows = await self._rows("SELECT body FROM conversations WHERE conversation = ? AND who = ?", conversation, who)
        return ConversationRecord.model_validate_json(rows[0][0]) if rows else None

    async def list_conversations(
        self,
        user_id: str | None = None,
        conversation: str | None = None,
        limit: int = 20,
        offset: int = 0,
        platform: str | None = None,
    ) -> tuple[list[ConversationRecord], int]:
        clauses: list[str] = []
        args: list[str] = []
        if user_id is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM participants AS p WHERE p.conversation = conversations.conversation "
                "AND p.who = conversations.who AND p.user_id = ?)"
            )
            args.append(user_id)
        if conversation is not None:
            clauses.append("conversation = ?")
            args.append(conversation)
        if platform is not None:
            # Keys of one platform sort between "<platform>:" and "<platform>;" (";" follows ":").
            clauses.append("conversation >= ? AND conversation < ?")
            args += [f"{platform}:", f"{platform};"]
        condition = f" WHERE {' AND '.join(clauses)}" if clauses else ""

        def query(db: sqlite3.Connection) -> tuple[list[ConversationRecord], int]:
            total = db.execute(f"SELECT COUNT(*) FROM conversations{condition}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT body FROM conversations{condition} ORDER BY updated_at DESC, conversation, who "
                "LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [ConversationRecord.model_validate_json(r[0]) for r in rows], int(total)

        return await self._call(query)

    async def delete_conversation(self, conversation: str, who: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                db.execute("DELETE FROM chats WHERE conversation = ? AND who = ?", (conversation, who))
                db.execute("DELETE FROM participants WHERE conversation = ? AND who = ?", (conversation, who))
                cursor = db.execute(
                    "DELETE FROM conversations WHERE conversation = ? AND who = ?", (conversation, who)
                )
            return cursor.rowcount > 0

        return await self._call(delete)

    # markers
    async def mark_once(self, key: MarkerKey, ttl_seconds: float) -> bool:
        now = self._clock()

        def mark(db: sqlite3.Connection) -> bool:
            # Expired markers go on every call (indexed by expiry), so the table holds only live ones.
            db.execute("DELETE FROM markers WHERE expires_at <= ?", (now,))
            cursor = db.execute(
                "INSERT OR IGNORE INTO markers (key, expires_at) VALUES (?, ?)", (key.text, now + ttl_seconds)
            )
            return cursor.rowcount == 1

        return await self._call(mark)

    # values with a lifetime
    async def put_value(self, key: ValueKey, value: str, ttl_seconds: float) -> None:
        now = self._clock()

        def put(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM kv WHERE expires_at <= ?", (now,))  # indexed: keeps the table small
            db.execute(
                "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
                (key.text, value, now + ttl_seconds),
            )

        await self._call(put)

    async def get_value(self, key: ValueKey) -> str | None:
        rows = await self._rows("SELECT value FROM kv WHERE key = ? AND expires_at > ?", key.text, self._clock())
        return rows[0][0] if rows else None

    # audit
    async def append_audit(self, entry: AuditEntry) -> None:
        await self._write(
            "INSERT INTO audit (conversation, body) VALUES (?, ?)",
            entry.conversation,
            entry.model_dump_json(),
        )

    async def list_audit(self, limit: int = 20, conversation: str | None = None) -> list[AuditEntry]:
        if conversation is None:
            rows = await self._rows("SELECT body FROM audit ORDER BY id DESC LIMIT ?", limit)
        else:
            rows = await self._rows(
                "SELECT body FROM audit WHERE conversation = ? ORDER BY id DESC LIMIT ?", conversation, limit
            )
        return [AuditEntry.model_validate_json(r[0]) for r in rows]

    # the reply journal
    async def open_reply(self, record: ReplyRecord) -> None:
        await self._write(
            "INSERT OR REPLACE INTO replies (reply_id, owner, opened_at, body, parts, text, final, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            record.reply_id,
            record.owner,
            record.opened_at.timestamp(),
            record.model_dump_json(),
            json.dumps(record.parts),
            record.text,
            int(record.final),
            record.attempts,
        )

    async def note_reply(self, reply_id: str, parts: list[str], text: str, final: bool) -> bool:
        changed = await self._write(
            "UPDATE replies SET parts = ?, text = ?, final = ? WHERE reply_id = ?",
            json.dumps(parts),
            text,
            int(final),
            reply_id,
        )
        return changed > 0

    async def claim_reply(self, reply_id: str) -> ReplyRecord | None:
        def claim(db: sqlite3.Connection) -> ReplyRecord | None:
            with _transaction(db):
                db.execute("UPDATE replies SET attempts = attempts + 1 WHERE reply_id = ?", (reply_id,))
                row = db.execute(f"SELECT {_REPLY_COLUMNS} FROM replies WHERE reply_id = ?", (reply_id,)).fetchone()
            return _reply(row) if row else None

        return await self._call(claim)

    async def close_reply(self, reply_id: str) -> bool:
        return await self._write("DELETE FROM replies WHERE reply_id = ?", reply_id) > 0

    async def open_replies(self, owner: str) -> list[ReplyRecord]:
        rows = await self._rows(
            f"SELECT {_REPLY_COLUMNS} FROM replies WHERE owner = ? ORDER BY opened_at, reply_id", owner
        )
        return [_reply(row) for row in rows]

    async def close(self) -> None:
        async with self._lock:
            self._db.close()


_REPLY_COLUMNS = "body, parts, text, final, attempts"


def _reply(row: tuple[str, ...]) -> ReplyRecord:
    """An entry of the reply journal: what was opened, with its progress since."""
    body, parts, text, final, attempts = row
    progress = {"parts": json.loads(parts), "text": text, "final": bool(final), "attempts": int(attempts)}
    return ReplyRecord.model_validate_json(body).model_copy(update=progress)


def _record(
    db: sqlite3.Connection, conversation: str, who: str, user_id: str, preset: str, last_message: str, now: datetime
) -> None:
    query = "SELECT body FROM conversations WHERE conversation = ? AND who = ?"
    row = db.execute(query, (conversation, who)).fetchone()
    count = ConversationRecord.model_validate_json(row[0]).message_count if row else 0
    updated = ConversationRecord(
        conversation=conversation,
        who=who,
        user_id=user_id,
        preset=preset,
        message_count=count + 2,
        last_message=last_message,
        updated_at=now,
    )
    db.execute(
        "INSERT OR REPLACE INTO conversations (conversation, who, user_id, updated_at, body) VALUES (?, ?, ?, ?, ?)",
        (conversation, who, user_id, now.timestamp(), updated.model_dump_json()),
    )
    db.execute(
        "INSERT OR IGNORE INTO participants (conversation, who, user_id) VALUES (?, ?, ?)", (conversation, who, user_id)
    )
