"""One contract, two implementations: the SQLite store and the Redis store must behave the same.

Time is a virtual clock given to both stores, so orderings never depend on real time. Expiry is the one thing
Redis times itself: those tests advance the clock (enough for SQLite) and then poll for the expiry with a
generous timeout (what Redis needs), with TTLs long enough that "not expired yet" holds on a slow machine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis

from bot.errors import StartupError
from bot.models import AuditEntry, Binding, Preset
from bot.ports import EVERYONE, StateStore, StoreVersionError
from bot.store.redis import RedisStateStore
from bot.store.sqlite import SqliteStateStore
from charbridge.app import open_store, sqlite_path
from config.settings import BridgeSettings, Settings
from tests.conftest import free_port

StoreFactory = Callable[[], StateStore]

SHORT_TTL = 3.0  # seconds; a real wait for Redis, so kept short, but far from a race
POLL_TIMEOUT = 20.0


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll until ``condition`` holds; a generous timeout fails the test should it never."""
    # Redis expires keys on its own clock: there is no event to await, so the condition is polled.
    async with asyncio.timeout(POLL_TIMEOUT):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, clock: VirtualClock) -> StoreFactory:
    """A factory, so a test can close the store and open a new one on the same data."""
    if request.param == "sqlite":
        return lambda: SqliteStateStore(tmp_path / "state.sqlite3", clock=clock)
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStateStore(url, prefix="test:", clock=clock)


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


async def test_dedupe_markers_expire(store: StateStore, make_store: StoreFactory, clock: VirtualClock) -> None:
    assert await store.mark_once("seen:telegram:1:5", ttl_seconds=SHORT_TTL) is True
    assert await store.mark_once("seen:telegram:1:5", ttl_seconds=SHORT_TTL) is False
    assert await store.mark_once("seen:long", ttl_seconds=600) is True

    again = await reopen(store, make_store)
    try:
        assert await again.mark_once("seen:telegram:1:5", ttl_seconds=SHORT_TTL) is False
        clock.advance(SHORT_TTL)
        await eventually(lambda: again.mark_once("seen:telegram:1:5", ttl_seconds=SHORT_TTL))
        assert await again.mark_once("seen:long", ttl_seconds=600) is False
    finally:
        await again.close()


async def test_values_replace_expire_and_survive_reopen(
    store: StateStore, make_store: StoreFactory, clock: VirtualClock
) -> None:
    assert await store.get_value("npc:last:telegram:-1") is None
    await store.put_value("npc:last:telegram:-1", "ada", ttl_seconds=600)
    await store.put_value("npc:last:telegram:-1", "rex", ttl_seconds=600)
    await store.put_value("npc:msg:telegram:-1:5", "zora", ttl_seconds=SHORT_TTL)
    assert await store.get_value("npc:last:telegram:-1") == "rex"

    again = await reopen(store, make_store)
    try:
        assert await again.get_value("npc:last:telegram:-1") == "rex"
        assert await again.get_value("npc:msg:telegram:-1:5") == "zora"
        clock.advance(SHORT_TTL)

        async def expired() -> bool:
            return await again.get_value("npc:msg:telegram:-1:5") is None

        await eventually(expired)
        assert await again.get_value("npc:last:telegram:-1") == "rex"
        await again.put_value("npc:msg:telegram:-1:5", "ada", ttl_seconds=600)  # a new value after expiry
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


async def test_conversation_records_count_list_and_delete(
    store: StateStore, make_store: StoreFactory, clock: VirtualClock
) -> None:
    await store.set_chat_id("http:team", "http:ann", "chat-1")
    await store.record_turn("http:team", "http:ann", "http:ann", "ada", "first reply")
    clock.advance(1)
    await store.record_turn("http:team", EVERYONE, "http:bob", "ada", "shared reply")
    clock.advance(1)
    await store.record_turn("http:dm:ann", EVERYONE, "http:ann", "kira", "hello ann")
    clock.advance(1)
    await store.record_turn("http:team", "http:ann", "http:ann", "ada", "second reply")

    again = await reopen(store, make_store)
    try:
        record = await again.get_conversation("http:team", "http:ann")
        assert record is not None
        assert (record.message_count, record.last_message, record.preset) == (4, "second reply", "ada")
        assert record.updated_at.timestamp() == clock.now  # the store's clock says when

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


async def listed(
    store: StateStore,
    user_id: str,
    conversation: str | None = None,
    platform: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[str], int]:
    """The conversation keys a listing gives, and its total."""
    records, total = await store.list_conversations(user_id, conversation, limit, offset, platform)
    return [r.conversation for r in records], total


async def test_a_user_keeps_every_conversation_they_spoke_in(
    store: StateStore, make_store: StoreFactory, clock: VirtualClock
) -> None:
    """Not only those they spoke in last: somebody else speaking in a group must not hide it from them."""
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "one")
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:2", "ada", "two")
    clock.advance(1)
    await store.record_turn("telegram:1", EVERYONE, "telegram:1", "ada", "a dm")
    clock.advance(1)
    await store.record_turn("telegram:-2", EVERYONE, "telegram:2", "ada", "elsewhere")

    assert await listed(store, user_id="telegram:1") == (["telegram:1", "telegram:-1"], 2)
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:3", "ada", "three")  # the group is newest again

    again = await reopen(store, make_store)
    try:
        assert await listed(again, user_id="telegram:1") == (["telegram:-1", "telegram:1"], 2)
        assert await listed(again, user_id="telegram:1", limit=1, offset=1) == (["telegram:1"], 2)
        assert await listed(again, user_id="telegram:2") == (["telegram:-1", "telegram:-2"], 2)
        assert await listed(again, user_id="telegram:3") == (["telegram:-1"], 1)
        assert await listed(again, user_id="telegram:1", conversation="telegram:-1") == (["telegram:-1"], 1)
        assert await listed(again, user_id="telegram:3", conversation="telegram:-2") == ([], 0)
        assert await listed(again, user_id="telegram:2", platform="telegram", limit=1) == (["telegram:-1"], 2)
        assert await listed(again, user_id="telegram:2", platform="discord") == ([], 0)
        record = await again.get_conversation("telegram:-1", EVERYONE)
        assert record is not None and (record.user_id, record.message_count) == ("telegram:3", 6)
    finally:
        await again.close()


async def test_a_deleted_conversation_forgets_its_participants(store: StateStore, clock: VirtualClock) -> None:
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "one")
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:2", "ada", "two")
    assert await store.delete_conversation("telegram:-1", EVERYONE) is True
    assert (await store.list_conversations(user_id="telegram:1"))[1] == 0
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:3", "ada", "anew")  # the same key, started over
    assert (await store.list_conversations(user_id="telegram:1"))[1] == 0
    assert (await store.list_conversations(user_id="telegram:2", conversation="telegram:-1"))[1] == 0
    assert (await store.list_conversations(user_id="telegram:3"))[1] == 1


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_data_of_a_newer_layout_is_refused(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A downgrade must not read (or write) data it does not understand."""
    if kind == "sqlite":
        path = tmp_path / "state.sqlite3"
        await SqliteStateStore(path).close()  # the file, at this release's version
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = 99")
        with pytest.raises(StoreVersionError, match=r"newer charbridge.*version 99"):
            SqliteStateStore(path)
        return
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    client.set("test:schema", 99)
    client.close()
    with pytest.raises(StoreVersionError, match=r"newer charbridge.*version 99"):
        RedisStateStore(url, prefix="test:")


async def test_expired_markers_are_purged_from_sqlite(tmp_path: Path, clock: VirtualClock) -> None:
    store = SqliteStateStore(tmp_path / "markers.sqlite3", clock=clock)
    try:
        for i in range(50):
            assert await store.mark_once(f"seen:{i}", ttl_seconds=0.05)
        clock.advance(0.1)
        assert await store.mark_once("seen:fresh", ttl_seconds=60)
        with sqlite3.connect(tmp_path / "markers.sqlite3") as db:
            assert db.execute("SELECT key FROM markers").fetchall() == [("seen:fresh",)]
    finally:
        await store.close()


async def test_conversations_filtered_by_platform(store: StateStore, clock: VirtualClock) -> None:
    await store.record_turn("http:team", EVERYONE, "http:ann", "ada", "one")
    clock.advance(1)
    await store.record_turn("httpx:odd", EVERYONE, "httpx:bob", "ada", "not http")
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "two")
    clock.advance(1)
    await store.record_turn("http:dm:ann", EVERYONE, "http:ann", "ada", "three")
    http, total = await store.list_conversations(platform="http")
    assert total == 2 and [r.conversation for r in http] == ["http:dm:ann", "http:team"]
    page, total = await store.list_conversations(platform="http", limit=1, offset=1)
    assert total == 2 and [r.conversation for r in page] == ["http:team"]
    anns, total = await store.list_conversations(user_id="http:ann", platform="telegram")
    assert (anns, total) == ([], 0)
    assert (await store.list_conversations(platform="discord"))[1] == 0


def test_charbridge_run_reports_a_newer_sqlite_file_in_one_line(tmp_path: Path) -> None:
    settings = Settings(bridge=BridgeSettings(data_dir=tmp_path))
    sqlite_path(settings).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(sqlite_path(settings)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StartupError, match=r"^the SQLite state was written by a newer charbridge \(schema version 99"):
        open_store(settings)


def test_charbridge_run_reports_an_unreachable_redis_in_one_line(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings(bridge=BridgeSettings(data_dir=tmp_path), storage={"redis_url": url})
    with pytest.raises(StartupError, match=r"^cannot use the Redis at storage.redis_url: .*refused"):
        open_store(settings)
