"""API keys, start-up refusal, body limits (nothing stored), the per-key rate limit, and keys kept out of logs."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.http.adapter import HttpAdapter
from bot.core import Core
from bot.errors import StartupError
from bot.store.sqlite import SqliteStateStore
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import KEYS, World, make_settings, running_api, store_snapshot

CONVERSATIONS = ["http:dm:alice", "http:team"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-key", "Bearer ", "Basic dGVzdC1rZXktYWxwaGE6", "test-key-alpha", "Bearer test-key-alph"],
)
async def test_requests_without_a_valid_key_are_refused(world: World, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    before = await store_snapshot(world.core, CONVERSATIONS)
    for method, path in (("POST", "/api/chat"), ("POST", "/api/chat/stream"), ("GET", "/api/conversations")):
        reply = await world.api.call(
            method, path, key=None, headers=headers, json_body={"message": "hi", "userId": "alice"}
        )
        assert reply.status == 401 and reply.body["error"]["code"] == "UNAUTHORIZED"
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert await store_snapshot(world.core, CONVERSATIONS) == before
    assert world.upstream.chats == {}


async def test_every_configured_key_works_and_the_scheme_is_case_insensitive(world: World) -> None:
    for key in KEYS:
        chat = await world.api.call("POST", "/api/chat", key=key, json_body={"message": "hi", "userId": "alice"})
        assert chat.status == 200
        assert (await world.api.call("GET", "/api/conversations", key=key)).status == 200
    lower = await world.api.call("GET", "/api/conversations", key=None, headers={"Authorization": f"bearer {KEYS[1]}"})
    assert lower.status == 200


async def test_openapi_document_needs_no_key(world: World) -> None:
    reply = await world.api.call("GET", "/api/openapi.json", key=None)
    assert reply.status == 200 and reply.body["openapi"].startswith("3.1")


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    settings = make_settings(tmp_path)
    built = Core(settings, SqliteStateStore(tmp_path / "s.sqlite3"), {"characterai": ScriptedUpstream()})
    yield built
    await built.close()


@pytest.mark.parametrize("keys", [[], ["  "]])
async def test_the_api_refuses_to_start_without_a_key(tmp_path: Path, core: Core, keys: list[str]) -> None:
    settings = make_settings(tmp_path, http={"enabled": True, "port": 0, "api_keys": keys})
    adapter = HttpAdapter(settings, core.door)
    with pytest.raises(StartupError) as refused:
        await adapter.start()
    message = str(refused.value)
    assert "\n" not in message and "CHARBRIDGE_HTTP__API_KEYS" in message


async def test_a_port_in_use_is_a_one_line_startup_error(tmp_path: Path, core: Core) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(tmp_path, http={"port": port, "api_keys": KEYS})
        with pytest.raises(StartupError) as refused:
            await HttpAdapter(settings, core.door).start()
    assert f"127.0.0.1:{port}" in str(refused.value) and "\n" not in str(refused.value)


async def test_listens_on_loopback_unless_configured(tmp_path: Path, core: Core) -> None:
    settings = make_settings(tmp_path, http={"port": 0, "api_keys": KEYS})
    adapter = HttpAdapter(settings, core.door)
    await adapter.start()
    try:
        assert adapter.url == f"http://127.0.0.1:{adapter.port}"
        with socket.create_connection(("127.0.0.1", adapter.port), timeout=5):
            pass
    finally:
        await adapter.stop()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "empty"),
        (b"{not json", "JSON"),
        (b"[1, 2]", "object"),
        (b'{"userId": "alice"}', "message"),
        (b'{"message": "hi"}', "userId"),
        (b'{"message": "   ", "userId": "alice"}', "blank"),
        (b'{"message": "hi", "userId": "alice", "groupId": "dm:bob"}', "groupId"),
        (b'{"message": "hi", "userId": "a/b"}', "userId"),
        (b'{"message": "hi", "userId": "alice", "preset": "Not A Name"}', "preset"),
        (b'{"message": "hi", "user_id": "alice"}', "user_id"),
        (b'{"message": 5, "userId": "alice"}', "message"),
        (b'\xff\xfe{"message"', "JSON"),
    ],
)
async def test_invalid_bodies_are_a_clear_400_and_store_nothing(world: World, body: bytes, needle: str) -> None:
    await world.api.chat("existing", user="bob")
    before = await store_snapshot(world.core, [*CONVERSATIONS, "http:dm:bob"])
    chats_before = {k: list(v) for k, v in world.upstream.chats.items()}
    for path in ("/api/chat", "/api/chat/stream"):
        reply = await world.api.call("POST", path, data=body, headers={"Content-Type": "application/json"})
        assert reply.status == 400, reply.body
        assert reply.body["error"]["code"] == "INVALID_REQUEST"
        assert needle in reply.body["error"]["message"]
    assert await store_snapshot(world.core, [*CONVERSATIONS, "http:dm:bob"]) == before
    assert world.upstream.chats == chats_before


async def test_oversized_bodies_are_refused_before_anything_is_stored(tmp_path: Path) -> None:
    async with running_api(tmp_path, max_body_bytes=512) as world:
        before = await store_snapshot(world.core, CONVERSATIONS)
        big = {"message": "x" * 600, "userId": "alice"}
        sized = await world.api.call("POST", "/api/chat", json_body=big)
        assert sized.status == 413 and sized.body["error"]["code"] == "INVALID_REQUEST"
        assert "512" in sized.body["error"]["message"]

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the limit applies while reading
            yield b'{"message": "'
            for _ in range(10):
                yield b"y" * 100
            yield b'", "userId": "alice"}'

        streamed = await world.api.call("POST", "/api/chat/stream", data=chunked())
        assert streamed.status == 413 and streamed.body["error"]["code"] == "INVALID_REQUEST"
        assert await store_snapshot(world.core, CONVERSATIONS) == before
        assert world.upstream.chats == {}
        assert (await world.api.chat("y" * 400)).status == 200  # under the limit is fine


async def test_rate_limit_per_key_with_retry_after(tmp_path: Path) -> None:
    async with running_api(tmp_path, rate_limit_per_minute=3) as world:
        for _ in range(3):
            assert (await world.api.call("GET", "/api/conversations")).status == 200
        world.clock.now += 20
        limited = await world.api.call("GET", "/api/conversations")
        assert limited.status == 429 and limited.body["error"]["code"] == "RATE_LIMITED"
        assert limited.headers["Retry-After"] == "40" and limited.body["error"]["retryAfter"] == 40
        refused_chat = await world.api.chat("hi")
        assert refused_chat.status == 429 and world.upstream.chats == {}
        # the other key has its own allowance
        assert (await world.api.call("GET", "/api/conversations", key=KEYS[1])).status == 200
        # the window slides: a minute after the first requests the key may go again
        world.clock.now += 40
        assert (await world.api.call("GET", "/api/conversations")).status == 200


async def test_keys_never_reach_the_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await world.api.chat("hi")
    await world.api.call("GET", "/api/conversations", key=KEYS[1])
    await world.api.call("GET", "/api/conversations", key="test-key-presented-wrongly")
    await world.api.stream("hi")
    assert any("refused" in r.getMessage() for r in caplog.records)  # the refusal is logged, the key is not
    for record in caplog.records:
        text = record.getMessage() + str(record.__dict__)
        for key in [*KEYS, "test-key-presented-wrongly"]:
            assert key not in text
