"""At the store boundary: every call of a store that cannot be reached raises StoreUnavailable (a redis-server really
stopped; an SQLite file really locked by another connection), and the same store works again once it can be
reached, without being reopened."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.keys import LastNpcSpeaker, Seen
from bot.models import AuditEntry, Binding, Preset
from bot.ports import StateStore, StoreUnavailable
from bot.store.redis import RedisOptions, RedisStateStore
from bot.store.sqlite import SqliteStateStore
from tests.redis_process import running_redis

Call = Callable[[StateStore], Awaitable[object]]

WRITES: dict[str, Call] = {
    "put_preset": lambda s: s.put_preset(Preset(name="ada", character_id="ada")),
    "delete_preset": lambda s: s.delete_preset("ada"),
    "put_binding": lambda s: s.put_binding(Binding(conversation="telegram:1", preset="ada", bound_by="telegram:9")),
    "delete_binding": lambda s: s.delete_binding("telegram:1"),
    "set_chat_id": lambda s: s.set_chat_id("telegram:1", "*", "chat-1"),
    "clear_chat_ids": lambda s: s.clear_chat_ids("telegram:1"),
    "record_turn": lambda s: s.record_turn("telegram:1", "*", "telegram:9", "ada", "hello"),
    "delete_conversation": lambda s: s.delete_conversation("telegram:1", "*"),
    "mark_once": lambda s: s.mark_once(Seen("telegram:1:5"), 60),
    "put_value": lambda s: s.put_value(LastNpcSpeaker("telegram:1"), "ada", 60),
    "append_audit": lambda s: s.append_audit(
        AuditEntry(at=datetime(2026, 1, 1, tzinfo=UTC), actor="telegram:9", action="bind", conversation="telegram:1")
    ),
}
READS: dict[str, Call] = {
    "get_preset": lambda s: s.get_preset("ada"),
    "list_presets": lambda s: s.list_presets(),
    "get_binding": lambda s: s.get_binding("telegram:1"),
    "list_bindings": lambda s: s.list_bindings(),
    "get_chat_id": lambda s: s.get_chat_id("telegram:1", "*"),
    "list_chat_ids": lambda s: s.list_chat_ids("telegram:1"),
    "get_conversation": lambda s: s.get_conversation("telegram:1", "*"),
    "list_conversations": lambda s: s.list_conversations(user_id="telegram:9", platform="telegram"),
    "get_value": lambda s: s.get_value(LastNpcSpeaker("telegram:1")),
    "list_audit": lambda s: s.list_audit(conversation="telegram:1"),
}


def store_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    assert all(r.exc_info is None for r in caplog.records), "a traceback was logged"
    return [r.getMessage() for r in caplog.records if r.name == "charbridge.store"]


async def test_every_call_to_a_stopped_redis_raises_store_unavailable_and_it_recovers_by_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_redis(tmp_path / "redis") as server:
        store = RedisStateStore(server.url, prefix="down:", options=RedisOptions(retries=2, retry_delay=0.05))
        try:
            await store.put_binding(Binding(conversation="telegram:1", preset="ada", bound_by="telegram:9"))
            await server.stop()
            for name, call in {**WRITES, **READS}.items():
                with pytest.raises(StoreUnavailable, match="cannot be reached"):
                    await call(store)
                    pytest.fail(f"{name} reached a stopped Redis")
            assert store.reachability.down

            await server.start()
            assert await store.get_binding("telegram:1") is not None  # the same store, not reopened
            assert not store.reachability.down
            log = store_log(caplog)
            assert len(log) == 2
            assert log[0].startswith("state store unreachable: Error 111 connecting to 127.0.0.1")
            assert log[1].startswith("state store reachable again after")
        finally:
            await store.close()


async def test_a_locked_sqlite_file_makes_writes_unavailable_until_the_lock_goes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = tmp_path / "state.sqlite3"
    store = SqliteStateStore(path, busy_timeout=0.05)  # the lock is held for sure: the wait can only fail
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another program holds the file
        for name, call in WRITES.items():
            with pytest.raises(StoreUnavailable, match="database is locked"):
                await call(store)
                pytest.fail(f"{name} wrote to a locked file")
        for call in READS.values():
            await call(store)  # WAL: readers are not locked out
        other.execute("COMMIT")
        assert await store.mark_once(Seen("telegram:1:6"), 60)
        log = store_log(caplog)
        assert len(log) == 2
        assert log[0] == "state store unreachable: database is locked"
        assert log[1].startswith("state store reachable again after")  # the reads already got through
    finally:
        other.close()
        await store.close()
