"""The MarkerStore contract: markers set once until they expire, values replaced until they expire, both under the
typed keys of ``bot.keys`` and kept across restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.keys import LastNpcSpeaker, Notice, NpcAuthor, Seen
from bot.ports import MarkerStore
from bot.store.sqlite import SqliteStateStore
from tests.core.contracts.stores import SHORT_TTL, StoreUnderTest, VirtualClock, eventually


async def test_dedupe_markers_expire(opened: StoreUnderTest, clock: VirtualClock) -> None:
    store: MarkerStore = opened.store
    assert await store.mark_once(Seen("telegram:1:5"), ttl_seconds=SHORT_TTL) is True
    assert await store.mark_once(Seen("telegram:1:5"), ttl_seconds=SHORT_TTL) is False
    assert await store.mark_once(Seen("long"), ttl_seconds=600) is True

    again: MarkerStore = await opened.reopen()
    assert await again.mark_once(Seen("telegram:1:5"), ttl_seconds=SHORT_TTL) is False
    clock.advance(SHORT_TTL)
    await eventually(lambda: again.mark_once(Seen("telegram:1:5"), ttl_seconds=SHORT_TTL))
    assert await again.mark_once(Seen("long"), ttl_seconds=600) is False


async def test_values_replace_expire_and_survive_reopen(opened: StoreUnderTest, clock: VirtualClock) -> None:
    store: MarkerStore = opened.store
    last, author = LastNpcSpeaker("telegram:-1"), NpcAuthor("telegram:-1:5")
    assert await store.get_value(last) is None
    await store.put_value(last, "ada", ttl_seconds=600)
    await store.put_value(last, "rex", ttl_seconds=600)
    await store.put_value(author, "zora", ttl_seconds=SHORT_TTL)
    assert await store.get_value(last) == "rex"

    again: MarkerStore = await opened.reopen()
    assert await again.get_value(last) == "rex"
    assert await again.get_value(author) == "zora"
    clock.advance(SHORT_TTL)

    async def expired() -> bool:
        return await again.get_value(author) is None

    await eventually(expired)
    assert await again.get_value(last) == "rex"
    await again.put_value(author, "ada", ttl_seconds=600)  # a new value after expiry
    assert await again.get_value(author) == "ada"


async def test_each_kind_of_key_is_its_own(opened: StoreUnderTest) -> None:
    """The same id in two kinds of key names two entries (a notice in a channel is not a message seen there)."""
    store: MarkerStore = opened.store
    assert await store.mark_once(Seen("discord:7"), ttl_seconds=600) is True
    assert await store.mark_once(Notice("discord", "missing_permission", "7"), ttl_seconds=600) is True
    assert await store.mark_once(Notice("discord", "limit_reached", "7"), ttl_seconds=600) is True
    assert await store.mark_once(Notice("discord", "missing_permission", "7"), ttl_seconds=600) is False
    await store.put_value(LastNpcSpeaker("telegram:-1"), "ada", ttl_seconds=600)
    assert await store.get_value(NpcAuthor("telegram:-1")) is None
    await store.put_value(NpcAuthor("telegram:-1"), "rex", ttl_seconds=600)
    assert await store.get_value(LastNpcSpeaker("telegram:-1")) == "ada"


async def test_expired_markers_are_purged_from_sqlite(tmp_path: Path, clock: VirtualClock) -> None:
    store = SqliteStateStore(tmp_path / "markers.sqlite3", clock=clock)
    try:
        for i in range(50):
            assert await store.mark_once(Seen(str(i)), ttl_seconds=0.05)
        clock.advance(0.1)
        assert await store.mark_once(Seen("fresh"), ttl_seconds=60)
        with sqlite3.connect(tmp_path / "markers.sqlite3") as db:
            assert db.execute("SELECT key FROM markers").fetchall() == [("seen:fresh",)]
    finally:
        await store.close()
