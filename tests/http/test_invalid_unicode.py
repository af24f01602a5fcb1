"""Invalid Unicode over the HTTP API, end to end: JSON may escape lone UTF-16 surrogates ("\\ud800"), which no
encoder (the SQLite or Redis store's included) accepts. They become U+FFFD at the edge, so the message is answered
in full and stored, and the conversation endpoints keep working."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.redis import RedisStateStore
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import StoreClock, StoreOpener, World, serve, sqlite_store

LONE = "\ud800"


@pytest.fixture(params=["sqlite", "redis"])
def store_opener(request: pytest.FixtureRequest) -> StoreOpener:
    if request.param == "sqlite":
        return sqlite_store
    url = str(request.getfixturevalue("redis_url"))

    def redis_store(settings: Settings, clock: StoreClock) -> RedisStateStore:
        return RedisStateStore(url, settings.storage.key_prefix, clock=clock)

    return redis_store


@pytest.fixture
async def world(tmp_path: Path, store_opener: StoreOpener) -> AsyncIterator[World]:
    upstream = ScriptedUpstream()
    async with serve(tmp_path, upstream, open_store=store_opener) as served:
        yield World(served.core, served.adapter, served.api, served.clock, served.store_clock, upstream)


async def test_a_lone_surrogate_is_answered_in_full_and_the_conversation_stays_readable(world: World) -> None:
    raw = b'{"message": "hello \\ud800 there \\udfff", "userId": "alice"}'  # exactly what a client's JSON can say
    reply = await world.api.call("POST", "/api/chat", data=raw, headers={"Content-Type": "application/json"})
    assert reply.status == 200, reply.body
    cleaned = "hello \ufffd there \ufffd"
    assert reply.body["data"]["response"] == ScriptedUpstream.answer("ada", cleaned)
    assert [cleaned, ScriptedUpstream.answer("ada", cleaned)] in world.upstream.chats.values()

    streamed = await world.api.stream(f"and {LONE} again")  # the SSE client's JSON escapes the surrogate too
    again = ScriptedUpstream.answer("ada", "and \ufffd again")
    assert streamed[-1] == {"type": "end", "response": again, "usage": None}

    listing = await world.api.call("GET", "/api/conversations?userId=alice")
    assert listing.status == 200, listing.body
    [summary] = listing.body["data"]["conversations"]
    assert summary["messageCount"] == 4 and summary["lastMessage"] == again
    detail = await world.api.call("GET", f"/api/conversations/{summary['id']}")
    assert detail.status == 200, detail.body
    contents = [message["content"] for message in detail.body["data"]["messages"]]
    assert contents[:2] == [cleaned, ScriptedUpstream.answer("ada", cleaned)]


async def test_a_message_of_one_lone_surrogate_is_not_blank(world: World) -> None:
    reply = await world.api.chat(LONE)
    assert reply.status == 200, reply.body
    assert reply.body["data"]["response"] == ScriptedUpstream.answer("ada", "\ufffd")
