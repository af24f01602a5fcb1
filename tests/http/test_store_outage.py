"""Issue 19 through the HTTP API: with its Redis really stopped, every call is answered 503 CHANNEL_UNAVAILABLE with a
Retry-After (never a 500, never a traceback per call), and the API answers normally once Redis is back, its
bindings intact. A reply already under way when Redis goes is still delivered whole."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.models import ReplyFinal, ReplySnapshot
from bot.ports import StateStore
from bot.store.redis import RedisStateStore
from bot.upstream.base import ReplyStream
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import Reply, StoreClock, StoreOpener, serve
from tests.redis_process import running_redis

RETRY_AFTER = 5  # storage.outage_retry_after's default


def redis_opener(url: str) -> StoreOpener:
    def open_store(settings: Settings, clock: StoreClock) -> StateStore:
        return RedisStateStore(url, prefix="http-outage:", clock=clock)

    return open_store


def assert_store_unavailable(reply: Reply) -> None:
    assert reply.status == 503, reply.body
    error = reply.body["error"]
    assert (error["code"], error["reason"], error["retryAfter"]) == (
        "CHANNEL_UNAVAILABLE",
        "store_unavailable",
        RETRY_AFTER,
    )
    assert reply.headers["Retry-After"] == str(RETRY_AFTER)
    assert "try again" in error["message"]


def lines(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


async def test_every_call_is_answered_503_while_redis_is_down_and_normally_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_redis(tmp_path / "redis") as redis_server, serve(
        tmp_path, ScriptedUpstream(), open_store=redis_opener(redis_server.url)
    ) as served:
        api = served.api
        assert (await api.chat("hello", user="alice")).status == 200
        bound = await api.chat("ahoy", user="alice", groupId="crew", preset="bob")
        assert bound.status == 200 and bound.body["data"]["preset"] == "bob"
        conversation_id = bound.body["data"]["conversationId"]
        caplog.clear()

        await redis_server.stop()
        for _ in range(2):  # each call is answered, however recently its conversation heard the notice
            assert_store_unavailable(await api.chat("anyone there?", user="alice"))
            assert_store_unavailable(await api.chat("hello crew", user="bob", groupId="crew"))
        stream_body = {"message": "stream?", "userId": "alice"}
        assert_store_unavailable(await api.call("POST", "/api/chat/stream", json_body=stream_body))
        assert_store_unavailable(await api.call("GET", "/api/conversations?userId=alice"))
        assert_store_unavailable(await api.call("GET", f"/api/conversations/{conversation_id}"))
        assert_store_unavailable(await api.call("POST", f"/api/conversations/{conversation_id}/clear"))
        assert len(lines(caplog, "state store unreachable")) == 1
        assert [r.getMessage() for r in caplog.records if r.exc_info is not None] == []

        await redis_server.start()
        back = await api.chat("still there?", user="bob", groupId="crew")
        assert back.status == 200, back.body
        assert back.body["data"]["preset"] == "bob"  # the binding made before the outage
        assert back.body["data"]["response"] == ScriptedUpstream.answer("bob", "still there?")
        listed = await api.call("GET", "/api/conversations?groupId=crew")
        assert listed.status == 200 and listed.body["data"]["total"] == 1
        assert len(lines(caplog, "state store reachable again after")) == 1
        assert len(lines(caplog, "state store unreachable")) == 1
        assert [r.getMessage() for r in caplog.records if r.exc_info is not None] == []


class HaltingUpstream(ScriptedUpstream):
    """Replies with one snapshot, then waits for ``resume`` before the final."""

    def __init__(self) -> None:
        super().__init__()
        self.halfway = asyncio.Event()
        self.resume = asyncio.Event()

    def send(self, chat_id: str, character_id: str, text: str) -> ReplyStream:
        self.chats[chat_id].append(text)
        return self._halting(chat_id, self.answer(character_id, text))

    async def _halting(self, chat_id: str, reply: str) -> ReplyStream:
        yield ReplySnapshot(text=reply[:4])
        self.halfway.set()
        await self.resume.wait()
        self.chats[chat_id].append(reply)
        yield ReplyFinal(text=reply)


async def test_a_reply_under_way_when_redis_goes_is_still_delivered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    upstream = HaltingUpstream()
    async with running_redis(tmp_path / "redis") as redis_server, serve(
        tmp_path, upstream, open_store=redis_opener(redis_server.url)
    ) as served:
        streaming = asyncio.create_task(served.api.stream("tell me a story", user="alice"))
        async with asyncio.timeout(20):
            await upstream.halfway.wait()
        await redis_server.stop()  # the exchange can no longer be recorded when the final comes
        upstream.resume.set()
        events = await streaming
        expected = ScriptedUpstream.answer("ada", "tell me a story")
        assert events[-1] == {"type": "end", "response": expected, "usage": None}
        assert "".join(e["text"] for e in events if e["type"] == "content") == expected
        assert len(lines(caplog, "delivered but not recorded")) == 1
        assert len(lines(caplog, "state store unreachable")) == 1
        assert [r.getMessage() for r in caplog.records if r.exc_info is not None] == []
