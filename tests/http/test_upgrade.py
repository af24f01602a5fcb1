"""Upgrades keep the data: the new store starts on a data directory and on a Redis written by the previous release
(fixtures/previous_release, made by that release's own store; see make_fixtures.py there), migrates them, and
everything is still there, through the store and through the HTTP API."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from adapters.http.identity import encode_conversation_id
from bot.keys import LastNpcSpeaker, Seen
from bot.ports import EVERYONE, StateStore
from bot.store import redis_layout, sqlite_schema
from bot.store.redis import RedisStateStore
from charbridge.app import sqlite_path
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import Served, StoreClock, StoreOpener, make_settings, serve, sqlite_store

FIXTURES = Path(__file__).parent / "fixtures" / "previous_release"
PREFIX = "charbridge:"  # the default storage.key_prefix, which the fixture was written under
AFTER_THE_FIXTURE = 1_798_761_600.0  # 2027-01-01: the store's clock for what is said after the upgrade

TEAM = encode_conversation_id("http:team", EVERYONE)
ALICE_DM = encode_conversation_id("http:dm:alice", EVERYONE)
CAROL_DM = encode_conversation_id("http:dm:carol", EVERYONE)
GUILD_ALICE = encode_conversation_id("http:guild", "http:alice")
GUILD_BOB = encode_conversation_id("http:guild", "http:bob")


@dataclass
class PreviousRelease:
    open_store: StoreOpener
    latest: int  # the layout version this release brings it to
    layout_version: Callable[[], int]  # the version the stored data has now
    leftovers: Callable[[], list[str]]  # keys or tables of the old layout that the migration retires


def previous_sqlite(tmp_path: Path) -> PreviousRelease:
    """The data directory as the previous release left it."""
    path = sqlite_path(make_settings(tmp_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / "charbridge.sql").read_text())

    def version() -> int:
        with sqlite3.connect(path) as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    return PreviousRelease(sqlite_store, sqlite_schema.LATEST, version, list)  # (no table is retired)


def previous_redis(url: str, client: redis.Redis) -> PreviousRelease:
    """The Redis as the previous release left it: its keys, written with plain commands."""
    for line in (FIXTURES / "redis.jsonl").read_text().splitlines():
        client.execute_command(*json.loads(line))

    def open_store(settings: Settings, clock: StoreClock) -> StateStore:
        return RedisStateStore(url, settings.storage.key_prefix, clock=clock)

    def version() -> int:
        return int(client.get(PREFIX + "schema") or 0)

    def leftovers() -> list[str]:
        return sorted(client.scan_iter(match=PREFIX + "convs:user:*"))

    return PreviousRelease(open_store, redis_layout.LATEST, version, leftovers)


@pytest.fixture(params=["sqlite", "redis"])
def previous_release(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PreviousRelease]:
    if request.param == "sqlite":
        yield previous_sqlite(tmp_path)
        return
    url = str(request.getfixturevalue("redis_url"))
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        yield previous_redis(url, client)
    finally:
        client.close()


@asynccontextmanager
async def upgraded(tmp_path: Path, previous: PreviousRelease) -> AsyncIterator[tuple[Served, ScriptedUpstream]]:
    """This release's core and HTTP API started on the previous release's data."""
    upstream = ScriptedUpstream()
    upstream.chats.update({f"chat-{n}": [] for n in range(1, 7)})  # the backend still has the old chats
    async with serve(tmp_path, upstream, open_store=previous.open_store) as served:
        served.store_clock.now = AFTER_THE_FIXTURE
        yield served, upstream


async def listed(served: Served, query: str = "") -> tuple[list[str], int]:
    reply = await served.api.call("GET", f"/api/conversations?{query}")
    assert reply.status == 200
    return [c["id"] for c in reply.body["data"]["conversations"]], reply.body["data"]["total"]


async def test_the_previous_releases_data_is_all_there(tmp_path: Path, previous_release: PreviousRelease) -> None:
    async with upgraded(tmp_path, previous_release) as (served, _):
        store = served.core.store
        zed = await store.get_preset("zed")
        assert zed is not None and zed.display_name == "Zed"
        assert [(b.conversation, b.preset) for b in await store.list_bindings()] == [
            ("http:dm:carol", "bob"),
            ("telegram:-100", "kira"),
        ]
        audit = [(a.action, a.actor) for a in await store.list_audit()]
        assert audit == [("bind", "telegram:1"), ("use", "http:carol")]
        assert await store.list_chat_ids("http:guild") == {"http:alice": "chat-3", "http:bob": "chat-4"}
        assert await store.get_chat_id("telegram:-100", EVERYONE) == "chat-5"
        assert await store.mark_once(Seen("telegram:-100:1"), ttl_seconds=60) is False  # still marked
        assert await store.get_value(LastNpcSpeaker("telegram:-100")) == "ada"
        team = await store.get_conversation("http:team", EVERYONE)
        assert team is not None
        assert (team.user_id, team.message_count, team.last_message) == ("http:bob", 4, "ada heard: bob here")
        telegram, total = await store.list_conversations(platform="telegram")
        assert total == 1 and telegram[0].user_id == "telegram:1"

        # the HTTP API lists them, most recently active first, with their times as they were recorded
        assert await listed(served) == ([TEAM, CAROL_DM, GUILD_BOB, GUILD_ALICE, ALICE_DM], 5)
        summary = (await served.api.call("GET", "/api/conversations?limit=1")).body["data"]["conversations"][0]
        assert (summary["userId"], summary["messageCount"], summary["preset"]) == ("bob", 4, "ada")
        assert summary["updatedAt"] == (team.updated_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


async def test_listing_by_user_works_on_upgraded_data(tmp_path: Path, previous_release: PreviousRelease) -> None:
    async with upgraded(tmp_path, previous_release) as (served, upstream):
        # Each conversation's last speaker was recovered. Alice's earlier words in the team were never recorded
        # by the previous release, so the team is not hers until she speaks there again.
        assert await listed(served, "userId=alice") == ([GUILD_ALICE, ALICE_DM], 2)
        assert await listed(served, "userId=bob") == ([TEAM, GUILD_BOB], 2)
        assert await listed(served, "userId=bob&groupId=guild") == ([GUILD_BOB], 1)
        assert await listed(served, "userId=carol&limit=1") == ([CAROL_DM], 1)

        reply = await served.api.chat("back again", user="alice", groupId="team")
        assert reply.status == 200 and reply.body["data"]["conversationId"] == TEAM
        assert upstream.chats["chat-1"] == ["back again", ScriptedUpstream.answer("ada", "back again")]
        assert await listed(served, "userId=alice") == ([TEAM, GUILD_ALICE, ALICE_DM], 3)
        assert await listed(served, "userId=bob") == ([TEAM, GUILD_BOB], 2)  # bob keeps it too
        assert await listed(served, "userId=alice&groupId=team") == ([TEAM], 1)

        # carol's conversation goes on with the preset bound to it, counting on from the old count
        carol = await served.api.chat("three", user="carol")
        assert carol.body["data"]["response"] == ScriptedUpstream.answer("bob", "three")
        detail = (await served.api.call("GET", f"/api/conversations/{CAROL_DM}")).body["data"]
        assert (detail["messageCount"], detail["preset"]) == (6, "bob")


async def test_the_new_layout_version_is_recorded_and_kept(tmp_path: Path, previous_release: PreviousRelease) -> None:
    assert previous_release.layout_version() == 0
    async with upgraded(tmp_path, previous_release) as (served, _):
        await served.api.chat("hi", user="alice", groupId="team")
    latest = previous_release.latest
    assert previous_release.layout_version() == latest == 2
    assert previous_release.leftovers() == []
    async with upgraded(tmp_path, previous_release) as (served, _):  # a restart: nothing lost, nothing redone
        assert await listed(served, "userId=alice") == ([TEAM, GUILD_ALICE, ALICE_DM], 3)
        assert await listed(served) == ([TEAM, CAROL_DM, GUILD_BOB, GUILD_ALICE, ALICE_DM], 5)
    assert previous_release.layout_version() == latest
