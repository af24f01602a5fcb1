"""The document describes the Server-Sent Events of /api/chat/stream exactly: every event actually sent (read
from the raw bytes by the SSE rules, keep-alive comments and error endings included) matches the documented event
schema, and that schema admits nothing else (no event type, id or retry; data only the four JSON events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from bot.upstream.base import ErrorCode
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import KEYS, World, parse_sse, running_api


async def _raw_stream(world: World, message: str, user: str = "alice") -> str:
    headers = {"Authorization": f"Bearer {KEYS[0]}"}
    body = {"message": message, "userId": user}
    async with aiohttp.ClientSession() as session, session.post(
        world.adapter.url + "/api/chat/stream", json=body, headers=headers
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        return (await response.read()).decode()


def _documented_event(world: World) -> dict[str, Any]:
    operation = world.api.documented.document["paths"]["/api/chat/stream"]["post"]
    content = operation["responses"]["200"]["content"]
    assert list(content) == ["text/event-stream"]
    schema: dict[str, Any] = content["text/event-stream"]["schema"]
    return schema


async def test_every_event_of_a_slow_reply_matches_the_document(tmp_path: Path) -> None:
    # Snapshots 0.2 s apart and keep-alives after 0.05 s of silence, so comments come between the events.
    async with running_api(tmp_path, chunk=10, pause=0.2, sse_keepalive_seconds=0.05) as world:
        events, comments = parse_sse(await _raw_stream(world, "tell me a long story, please"))
        assert comments and set(comments) == {": keep-alive"}
        data = [world.api.documented.check_event(event) for event in events]
        assert [d["type"] for d in data] == ["start"] + ["content"] * (len(data) - 2) + ["end"]
        reply = ScriptedUpstream.answer("ada", "tell me a long story, please")
        assert "".join(d["text"] for d in data[1:-1]) == data[-1]["response"] == reply


@pytest.mark.parametrize("failure", [ErrorCode.FILTERED, ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE])
async def test_a_stream_that_ends_in_an_error_matches_the_document(world: World, failure: ErrorCode) -> None:
    world.upstream.fail_next = failure
    events, _ = parse_sse(await _raw_stream(world, "hello"))
    data = [world.api.documented.check_event(event) for event in events]
    assert [d["type"] for d in data] == ["start", "error"]
    assert data[1]["error"]["reason"] == failure.value


async def test_the_documented_event_admits_only_what_is_sent(world: World) -> None:
    schema = _documented_event(world)
    document = world.api.documented.document
    envelope = Draft202012Validator({"components": document["components"], **schema})
    start = json.dumps({"type": "start", "conversationId": "x"})
    assert envelope.is_valid({"event": "message", "data": start})
    for extra in ({"event": "start"}, {"id": "1"}, {"retry": 1000}):
        assert not envelope.is_valid({"event": "message", "data": start} | extra), extra
    assert not envelope.is_valid({"event": "message"})

    data = schema["properties"]["data"]
    assert (data["type"], data["contentMediaType"]) == ("string", "application/json")
    payload = Draft202012Validator({"components": document["components"], **data["contentSchema"]})
    stream_event = document["components"]["schemas"]["StreamEvent"]
    assert set(stream_event["discriminator"]["mapping"]) == {"start", "content", "end", "error"}
    for sent in (
        {"type": "start", "conversationId": "x"},
        {"type": "content", "text": "a"},
        {"type": "end", "response": "a", "usage": None},
        {"type": "error", "error": {"code": "MODEL_ERROR", "message": "m", "reason": None, "retryAfter": None}},
    ):
        assert payload.is_valid(sent), sent
    for unsent in ({"type": "ping"}, {"type": "content"}, {"type": "content", "text": "a", "extra": 1}, "text"):
        assert not payload.is_valid(unsent), unsent
