"""One contract, two implementations: the SQLite store and the Redis store must behave the same."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.models import AuditEntry, Binding, Preset
from bot.ports import EVERYONE, StateStore
from bot.store.redis import RedisStateStore
from bot.store.sqlite import SqliteStateStore

StoreFactory = Callable[[], StateStore]


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory, so a test can close the store and open a new one on the same data."""
    if request.param == "sqlite":
        return lambda: SqliteStateStore(tmp_path / "state.sqlite3")
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStateStore(url, prefix="test:")


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[StateStore]:
    opened = make_store()
    yield opened
    await opened.close()


async def reopen(store: StateStore, make_store: StoreFactory) -> StateStore:
    await store.close()
    return make_store()


async def test_presets_round_trip_and_survive_reopen(store: StateStore, make_store: StoreFactory) -> None:
    kira = Preset(name="kira", character_id="char-1", display_name="Kira", scope="user", pacing={"min": 2.0})
    await store.put_preset(kira)
    await store.put_preset(Preset(name="ada", character_id="char-2"))
    assert await store.get_preset("kira") == kira
    assert [p.name for p in await store.list_presets()] == ["ada", "kira"]

    again = await reopen(store, make_store)
    try:
        assert await again.get_preset("kira") == kira
        assert await again.delete_preset("kira") is True
        assert await again.delete_preset("kira") is False
        assert await again.get_preset("kira") is None
        assert [p.name for p in await again.list_presets()] == ["ada"]
    finally:
        await again.close()


async def test_bindings_replace_and_delete(store: StateStore, make_store: StoreFactory) -> None:
    first = Binding(conversation="telegram:-100", preset="ada", bound_by="telegram:1")
    await store.put_binding(first)
    second = first.model_copy(update={"preset": "kira"})
    await store.put_binding(second)
    await store.put_binding(Binding(conversation="discord:1:2", preset="ada", bound_by="discord:9"))
    assert await store.get_binding("telegram:-100") == second

    again = await reopen(store, make_store)
    try:
        assert [b.conversation for b in await again.list_bindings()] == ["discord:1:2", "telegram:-100"]
        assert await again.delete_binding("telegram:-100") is True
        assert await again.get_binding("telegram:-100") is None
        assert await again.delete_binding("telegram:-100") is False
    finally:
        await again.close()


async def test_upstream_chat_ids_per_conversation_and_user(store: StateStore, make_store: StoreFactory) -> None:
    await store.set_chat_id("telegram:-100", "telegram:1", "chat-a")
    await store.set_chat_id("telegram:-100", "telegram:2", "chat-b")
    await store.set_chat_id("telegram:-100/7", EVERYONE, "chat-topic")
    await store.set_chat_id("telegram:-100", "telegram:1", "chat-a2")

    again = await reopen(store, make_store)
    try:
        assert await again.get_chat_id("telegram:-100", "telegram:1") == "chat-a2"
        assert await again.list_chat_ids("telegram:-100") == {"telegram:1": "chat-a2", "telegram:2": "chat-b"}
        assert await again.clear_chat_ids("telegram:-100") == 2
        assert await again.get_chat_id("telegram:-100", "telegram:2") is None
        # clearing one conversation leaves its threads alone
        assert await again.get_chat_id("telegram:-100/7", EVERYONE) == "chat-topic"
        assert await again.clear_chat_ids("telegram:-100") == 0
    finally:
        await again.close()


async def test_dedupe_markers_expire(store: StateStore, make_store: StoreFactory) -> None:
    assert await store.mark_once("seen:telegram:1:5", ttl_seconds=0.3) is True
    assert await store.mark_once("seen:telegram:1:5", ttl_seconds=0.3) is False
    assert await store.mark_once("seen:long", ttl_seconds=60) is True

    again = await reopen(store, make_store)
    try:
        assert await again.mark_once("seen:telegram:1:5", ttl_seconds=0.3) is False
        await asyncio.sleep(0.45)
        assert await again.mark_once("seen:telegram:1:5", ttl_seconds=0.3) is True
        assert await again.mark_once("seen:long", ttl_seconds=60) is False
    finally:
        await again.close()


async def test_values_replace_expire_and_survive_reopen(store: StateStore, make_store: StoreFactory) -> None:
    assert await store.get_value("npc:last:telegram:-1") is None
    await store.put_value("npc:last:telegram:-1", "ada", ttl_seconds=60)
    await store.put_value("npc:last:telegram:-1", "rex", ttl_seconds=60)
    await store.put_value("npc:msg:telegram:-1:5", "zora", ttl_seconds=0.3)
    assert await store.get_value("npc:last:telegram:-1") == "rex"

    again = await reopen(store, make_store)
    try:
        assert await again.get_value("npc:last:telegram:-1") == "rex"
        assert await again.get_value("npc:msg:telegram:-1:5") == "zora"
        await asyncio.sleep(0.45)
        assert await again.get_value("npc:msg:telegram:-1:5") is None
        assert await again.get_value("npc:last:telegram:-1") == "rex"
        await again.put_value("npc:msg:telegram:-1:5", "ada", ttl_seconds=60)  # a new value after expiry
        assert await again.get_value("npc:msg:telegram:-1:5") == "ada"
    finally:
        await again.close()


async def test_audit_log_newest_first_and_per_conversation(store: StateStore, make_store: StoreFactory) -> None:
    for i in range(5):
        conversation = "telegram:-100" if i % 2 == 0 else "discord:1:2"
        await store.append_audit(AuditEntry(actor=f"user{i}", conversation=conversation, action=f"act{i}"))

    again = await reopen(store, make_store)
    try:
        assert [e.action for e in await again.list_audit(limit=3)] == ["act4", "act3", "act2"]
        per_chat = await again.list_audit(limit=10, conversation="telegram:-100")
        assert [e.actor for e in per_chat] == ["user4", "user2", "user0"]
    finally:
        await again.close()


async def test_conversation_records_count_list_and_delete(store: StateStore, make_store: StoreFactory) -> None:
    await store.set_chat_id("http:team", "http:ann", "chat-1")
    await store.record_turn("http:team", "http:ann", "http:ann", "ada", "first reply")
    await asyncio.sleep(0.01)
    await store.record_turn("http:team", EVERYONE, "http:bob", "ada", "shared reply")
    await asyncio.sleep(0.01)
    await store.record_turn("http:dm:ann", EVERYONE, "http:ann", "kira", "hello ann")
    await asyncio.sleep(0.01)
    await store.record_turn("http:team", "http:ann", "http:ann", "ada", "second reply")

    again = await reopen(store, make_store)
    try:
        record = await again.get_conversation("http:team", "http:ann")
        assert record is not None
        assert (record.message_count, record.last_message, record.preset) == (4, "second reply", "ada")

        everything, total = await again.list_conversations()
        assert total == 3
        assert [(r.conversation, r.who) for r in everything] == [
            ("http:team", "http:ann"),
            ("http:dm:ann", EVERYONE),
            ("http:team", EVERYONE),
        ]
        anns, total = await again.list_conversations(user_id="http:ann", limit=1, offset=1)
        assert total == 2 and [r.conversation for r in anns] == ["http:dm:ann"]
        team_ann, total = await again.list_conversations(user_id="http:ann", conversation="http:team")
        assert total == 1 and team_ann[0].who == "http:ann"
        in_team, total = await again.list_conversations(conversation="http:team")
        assert total == 2 and {r.who for r in in_team} == {"http:ann", EVERYONE}

        assert await again.delete_conversation("http:team", "http:ann") is True
        assert await again.get_conversation("http:team", "http:ann") is None
        assert await again.get_chat_id("http:team", "http:ann") is None
        assert (await again.list_conversations(user_id="http:ann"))[1] == 1
        assert await again.delete_conversation("http:team", "http:ann") is False
    finally:
        await again.close()


async def test_the_last_speaker_owns_a_shared_conversation_in_listings(store: StateStore) -> None:
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "one")
    await store.record_turn("telegram:-1", EVERYONE, "telegram:2", "ada", "two")
    assert (await store.list_conversations(user_id="telegram:1"))[1] == 0
    assert (await store.list_conversations(user_id="telegram:2"))[1] == 1


async def test_expired_markers_are_purged_from_sqlite(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "markers.sqlite3")
    try:
        for i in range(50):
            assert await store.mark_once(f"seen:{i}", ttl_seconds=0.05)
        await asyncio.sleep(0.1)
        assert await store.mark_once("seen:fresh", ttl_seconds=60)
        with sqlite3.connect(tmp_path / "markers.sqlite3") as db:
            assert db.execute("SELECT key FROM markers").fetchall() == [("seen:fresh",)]
    finally:
        await store.close()


async def test_conversations_filtered_by_platform(store: StateStore) -> None:
    await store.record_turn("http:team", EVERYONE, "http:ann", "ada", "one")
    await asyncio.sleep(0.01)
    await store.record_turn("httpx:odd", EVERYONE, "httpx:bob", "ada", "not http")
    await asyncio.sleep(0.01)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "two")
    await asyncio.sleep(0.01)
    await store.record_turn("http:dm:ann", EVERYONE, "http:ann", "ada", "three")
    http, total = await store.list_conversations(platform="http")
    assert total == 2 and [r.conversation for r in http] == ["http:dm:ann", "http:team"]
    page, total = await store.list_conversations(platform="http", limit=1, offset=1)
    assert total == 2 and [r.conversation for r in page] == ["http:team"]
    anns, total = await store.list_conversations(user_id="http:ann", platform="telegram")
    assert (anns, total) == ([], 0)
    assert (await store.list_conversations(platform="discord"))[1] == 0
