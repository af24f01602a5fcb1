"""End to end: the HTTP API in front of our real Character.AI client, talking to the fake Character.AI server
over real sockets. Every expected text comes from what the fake stored, never from a copy in the test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.http.identity import decode_conversation_id
from backends.characterai import CharacterAIBackend, CharacterAIConfig
from bot.models import Preset
from bot.ports import EVERYONE
from fakes.characterai import FakeCharacterAI
from tests.http.support import KEYS, Served, serve

ECHO = "demo_echo"
PIRATE = "demo_captain_redbeard"
PRESETS = [Preset(name="echo", character_id=ECHO), Preset(name="pirate", character_id=PIRATE)]
FAST = {
    "connect_timeout": 5.0,
    "request_timeout": 5.0,
    "first_token_timeout": 5.0,
    "idle_timeout": 5.0,
    "reconnect_initial": 0.01,
    "reconnect_max": 0.05,
    "recovery_attempts": 2,
    "recovery_interval": 0.01,
}


@dataclass
class Bridge:
    served: Served
    fake: FakeCharacterAI

    async def chat_id(self, conversation: str = "http:dm:alice") -> str:
        chat_id = await self.served.core.store.get_chat_id(conversation, EVERYONE)
        assert chat_id is not None
        return chat_id

    async def stored_texts(self, conversation: str = "http:dm:alice") -> list[str]:
        return [turn.text() for turn in self.fake.chat(await self.chat_id(conversation)).turns]


class FakeTime:
    """The fake service's clock: 2026-01-02T03:04:05.678901Z, one second later at each reading."""

    def __init__(self) -> None:
        self.next = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    def __call__(self) -> datetime:
        now, self.next = self.next, self.next + timedelta(seconds=1)
        return now


def milliseconds(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@asynccontextmanager
async def bridged(tmp_path: Path, token: str | None = None) -> AsyncIterator[Bridge]:
    """The HTTP API over our Character.AI client over the fake; ``token``: the one we use (default: the right
    one)."""
    fake = FakeCharacterAI(seed=7, chunk_chars=4, clock=FakeTime())
    await fake.start(host="127.0.0.1", port=0)
    config = CharacterAIConfig.model_validate(
        {"token": token or fake.token, "neo_url": fake.neo_url, "plus_url": fake.plus_url,
         "dm_ws_url": fake.ws_url, "room_ws_url": fake.room_ws_url, **FAST}
    )
    try:
        async with serve(tmp_path, CharacterAIBackend(config), presets=PRESETS, default_preset="echo") as served:
            yield Bridge(served, fake)
    finally:
        await fake.stop()


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    async with bridged(tmp_path) as opened:
        yield opened


async def test_chat_returns_the_characters_stored_reply(bridge: Bridge) -> None:
    reply = await bridge.served.api.chat("Is the ship ready?")
    assert reply.status == 200
    stored = await bridge.stored_texts()
    assert stored[-2] == "Is the ship ready?"
    assert reply.body["data"]["response"] == stored[-1] and stored[-1]
    ref = decode_conversation_id(reply.body["data"]["conversationId"])
    assert ref is not None and ref.conversation == "http:dm:alice"


async def test_stream_deltas_add_up_to_the_stored_reply(bridge: Bridge) -> None:
    events = await bridge.served.api.stream("Tell me about the sea, at length please.", preset="pirate")
    stored = await bridge.stored_texts()
    contents = [e["text"] for e in events if e["type"] == "content"]
    assert events[0]["type"] == "start" and events[-1]["type"] == "end"
    assert len(contents) >= 2
    assert "".join(contents) == events[-1]["response"] == stored[-1]


async def test_history_clear_and_a_new_chat_upstream(bridge: Bridge) -> None:
    api = bridge.served.api
    conversation = (await api.chat("first")).body["data"]["conversationId"]
    await api.chat("second")
    detail = (await api.call("GET", f"/api/conversations/{conversation}")).body["data"]
    stored = await bridge.stored_texts()
    assert [m["content"] for m in detail["messages"]] == stored  # the greeting, then two exchanges
    assert [m["role"] for m in detail["messages"]][-4:] == ["user", "assistant", "user", "assistant"]
    assert detail["messageCount"] == 4
    # each message's time is the service's, as Unix epoch milliseconds
    turns = bridge.fake.chat(await bridge.chat_id()).turns
    assert [m["timestamp"] for m in detail["messages"]] == [milliseconds(turn.create_time) for turn in turns]
    assert len({m["timestamp"] for m in detail["messages"]}) == len(turns)  # (distinct: really each turn's)

    old_chat = await bridge.chat_id()
    assert (await api.call("POST", f"/api/conversations/{conversation}/clear")).status == 200
    new_chat = await bridge.chat_id()
    assert new_chat != old_chat
    assert len(bridge.fake.chat(new_chat).turns) == 1  # just the character's greeting
    reply = await api.chat("third")
    assert reply.body["data"]["response"] == (await bridge.stored_texts())[-1]


async def test_backend_faults_become_api_errors(bridge: Bridge) -> None:
    api = bridge.served.api
    await api.chat("warm up")
    bridge.fake.inject("rate_limit", target="dm", retry_after_seconds=7)
    limited = await api.chat("hi")
    assert limited.status == 429 and limited.body["error"]["code"] == "RATE_LIMITED"
    assert limited.headers["Retry-After"] == "7", "the backend's own retry hint is passed on"
    bridge.fake.inject("input_filter", target="dm")
    filtered = await api.chat("hi")
    assert filtered.status == 502 and filtered.body["error"]["code"] == "MODEL_ERROR"
    assert (await api.chat("fine now")).status == 200


async def test_a_client_leaving_mid_stream_does_not_break_the_chat(bridge: Bridge) -> None:
    bridge.fake.configure(snapshot_delay=0.02)
    api = bridge.served.api
    await api.chat("warm up")
    port = bridge.served.adapter.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"message": "a long question for a slow answer", "userId": "alice"}).encode()
    writer.write(
        f"POST /api/chat/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {KEYS[0]}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )
    async with asyncio.timeout(10):
        while not (await reader.readline()).startswith(b'data: {"type":"content"'):
            pass
    writer.transport.abort()

    after = await api.chat("and now?")
    assert after.status == 200
    stored = await bridge.stored_texts()
    assert stored[-4] == "a long question for a slow answer"
    assert stored[-2:] == ["and now?", after.body["data"]["response"]]
    # our side read the abandoned reply to its end too: its exchange was recorded before the next one
    record = await bridge.served.core.store.get_conversation("http:dm:alice", EVERYONE)
    assert record is not None and record.message_count == 6


async def test_refused_credentials_make_the_channel_unavailable(tmp_path: Path) -> None:
    async with bridged(tmp_path, token="bad-token-1234567890abcdef1234567890abcd") as bridge:
        reply = await bridge.served.api.chat("anyone there?")
        assert reply.status == 503
        assert reply.body["error"]["code"] == "CHANNEL_UNAVAILABLE"
        # the backend refused at start ("unavailable" since), or refuses this request ("auth")
        assert reply.body["error"]["reason"] in ("unavailable", "auth")
        assert "bad-token" not in json.dumps(reply.body)
        assert bridge.fake.chats() == []  # the fake service never took a message
