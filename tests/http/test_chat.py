"""POST /api/chat and /api/chat/stream: replies, conversation keys, per-request presets, backend errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.http.identity import decode_conversation_id
from bot.ports import EVERYONE
from bot.upstream.base import ErrorCode
from tests.core.scripted_upstream import ScriptedUpstream
from tests.http.support import World, running_api, serve


async def test_chat_returns_the_whole_reply_and_a_conversation_id(world: World) -> None:
    reply = await world.api.chat("hello there")
    assert reply.status == 200
    data = reply.body["data"]
    assert reply.body["success"] is True
    assert data["response"] == ScriptedUpstream.answer("ada", "hello there")
    assert data["preset"] == "ada"
    ref = decode_conversation_id(data["conversationId"])
    assert ref is not None and (ref.conversation, ref.who) == ("http:dm:alice", EVERYONE)
    record = await world.core.store.get_conversation("http:dm:alice", EVERYONE)
    assert record is not None and record.user_id == "http:alice" and record.message_count == 2


async def test_a_private_conversation_continues_the_same_upstream_chat(world: World) -> None:
    first = await world.api.chat("one")
    second = await world.api.chat("two")
    assert first.body["data"]["conversationId"] == second.body["data"]["conversationId"]
    chat_id = await world.core.store.get_chat_id("http:dm:alice", EVERYONE)
    assert chat_id is not None
    assert world.upstream.chats[chat_id] == [
        "one", ScriptedUpstream.answer("ada", "one"), "two", ScriptedUpstream.answer("ada", "two")
    ]


async def test_users_and_groups_map_to_their_own_conversations(world: World) -> None:
    alice = await world.api.chat("hi", user="alice")
    bob = await world.api.chat("hi", user="bob")
    alice_in_group = await world.api.chat("hi", user="alice", groupId="team-1")
    bob_in_group = await world.api.chat("hi", user="bob", groupId="team-1")
    ids = [r.body["data"]["conversationId"] for r in (alice, bob, alice_in_group, bob_in_group)]
    assert len(set(ids[:3])) == 3
    assert ids[2] == ids[3]  # a group shares one conversation (channel-scoped preset)
    group = await world.core.store.get_conversation("http:team-1", EVERYONE)
    assert group is not None and group.user_id == "http:bob" and group.message_count == 4


async def test_stream_sends_start_then_deltas_then_end(world: World) -> None:
    events = await world.api.stream("tell me a long story")
    expected = ScriptedUpstream.answer("ada", "tell me a long story")
    assert events[0]["type"] == "start"
    assert events[-1] == {"type": "end", "response": expected, "usage": None}
    contents = [e["text"] for e in events if e["type"] == "content"]
    assert len(contents) > 3  # really streamed, not one block
    assert all(len(text) <= 4 for text in contents)  # each is the new text only (the upstream's chunk is 4)
    assert "".join(contents) == expected
    assert [e["type"] for e in events[1:-1]] == ["content"] * len(contents)
    chat = await world.api.chat("and then?")
    assert chat.body["data"]["conversationId"] == events[0]["conversationId"]


async def test_stream_response_is_event_stream_framed(world: World) -> None:
    async with world.api.session.post(
        world.adapter.url + "/api/chat/stream",
        json={"message": "hi", "userId": "alice"},
        headers={"Authorization": "Bearer test-key-alpha"},
    ) as response:
        raw = (await response.read()).decode()
        assert response.content_type == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-cache"
    frames = raw.split("\n\n")
    assert frames[-1] == ""
    assert all(frame.startswith("data: {") and "\n" not in frame for frame in frames[:-1])


async def test_preset_in_the_body_binds_a_new_conversation(world: World) -> None:
    reply = await world.api.chat("hi", user="carol", preset="bob")
    assert reply.status == 200
    assert reply.body["data"]["response"] == ScriptedUpstream.answer("bob", "hi")
    binding = await world.core.store.get_binding("http:dm:carol")
    assert binding is not None and (binding.preset, binding.bound_by) == ("bob", "http:carol")
    audit = await world.core.store.list_audit(conversation="http:dm:carol")
    assert [(a.action, a.actor) for a in audit] == [("use", "http:carol")]
    # later requests keep the character, with or without naming it
    again = await world.api.chat("still you?", user="carol")
    same = await world.api.chat("sure?", user="carol", preset="bob")
    assert again.body["data"]["response"] == ScriptedUpstream.answer("bob", "still you?")
    assert same.status == 200 and same.body["data"]["preset"] == "bob"
    # other conversations still get the default
    other = await world.api.chat("hi", user="dave")
    assert other.body["data"]["response"] == ScriptedUpstream.answer("ada", "hi")


async def test_another_preset_for_a_conversation_in_progress_is_refused(world: World) -> None:
    await world.api.chat("hi")  # the default, ada
    refused = await world.api.chat("switch", preset="bob")
    assert refused.status == 400 and refused.body["error"]["code"] == "INVALID_REQUEST"
    assert "'ada'" in refused.body["error"]["message"]
    assert await world.core.store.get_binding("http:dm:alice") is None
    record = await world.core.store.get_conversation("http:dm:alice", EVERYONE)
    assert record is not None and record.message_count == 2


async def test_unknown_preset_is_invalid(world: World) -> None:
    reply = await world.api.chat("hi", preset="nobody")
    assert reply.status == 400 and reply.body["error"]["code"] == "INVALID_REQUEST"
    assert "nobody" in reply.body["error"]["message"]
    assert await world.core.store.get_binding("http:dm:alice") is None


async def test_per_user_preset_in_a_group_gives_each_user_a_conversation(world: World) -> None:
    alice = await world.api.chat("hi", user="alice", groupId="guild", preset="kira")
    bob = await world.api.chat("hi", user="bob", groupId="guild")
    assert alice.status == bob.status == 200
    assert bob.body["data"]["preset"] == "kira"
    refs = [decode_conversation_id(r.body["data"]["conversationId"]) for r in (alice, bob)]
    assert [(r.conversation, r.who) for r in refs if r is not None] == [
        ("http:guild", "http:alice"), ("http:guild", "http:bob")
    ]


async def test_without_any_preset_the_request_is_invalid(tmp_path: Path) -> None:
    async with running_api(tmp_path, default_preset=None) as world:
        reply = await world.api.chat("hi")
        assert reply.status == 400
        assert reply.body["error"]["code"] == "INVALID_REQUEST" and reply.body["error"]["reason"] == "no_preset"
        assert '"preset"' in reply.body["error"]["message"]
        assert world.upstream.chats == {}
        assert (await world.api.chat("hi", preset="ada")).status == 200


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (ErrorCode.UNAVAILABLE, 503, "CHANNEL_UNAVAILABLE"),
        (ErrorCode.AUTH, 503, "CHANNEL_UNAVAILABLE"),
        (ErrorCode.RATE_LIMITED, 429, "RATE_LIMITED"),
        (ErrorCode.MODEL, 502, "MODEL_ERROR"),
        (ErrorCode.FILTERED, 502, "MODEL_ERROR"),
        (ErrorCode.TIMEOUT, 502, "MODEL_ERROR"),
        (ErrorCode.INVALID, 502, "MODEL_ERROR"),
        (ErrorCode.NOT_FOUND, 502, "MODEL_ERROR"),
    ],
)
async def test_backend_errors_map_to_api_errors(world: World, failure: ErrorCode, status: int, code: str) -> None:
    await world.api.chat("warm up")  # the upstream chat exists; the next send fails
    world.upstream.fail_next = failure
    reply = await world.api.chat("hi")
    assert reply.status == status
    assert reply.body["success"] is False
    assert reply.body["error"]["code"] == code and reply.body["error"]["reason"] == failure.value
    assert "scripted" not in reply.body["error"]["message"]  # the operator detail stays in the log
    if status == 429:
        assert reply.headers["Retry-After"] == "7" and reply.body["error"]["retryAfter"] == 7
    else:
        assert "Retry-After" not in reply.headers
    assert (await world.api.chat("again")).status == 200


async def test_without_a_configured_backend_requests_are_channel_unavailable(tmp_path: Path) -> None:
    async with running_api(tmp_path) as world:  # a conversation made while the backend was configured
        conversation = (await world.api.chat("hi")).body["data"]["conversationId"]
    async with serve(tmp_path, None) as served:  # the same data, started without any backend
        for reply in (
            await served.api.chat("hi again"),
            await served.api.chat("hi", user="newcomer"),
            await served.api.call("GET", f"/api/conversations/{conversation}"),
        ):
            assert reply.status == 503
            error = reply.body["error"]
            assert (error["code"], error["reason"]) == ("CHANNEL_UNAVAILABLE", "unavailable")
            assert "Retry-After" not in reply.headers
        events = await served.api.stream("hi")
        assert events[-1]["type"] == "error" and events[-1]["error"]["code"] == "CHANNEL_UNAVAILABLE"
        record = await served.core.store.get_conversation("http:dm:alice", EVERYONE)
        assert record is not None and record.message_count == 2  # nothing was recorded for the failed requests


async def test_backend_error_mid_stream_is_an_error_event(world: World) -> None:
    await world.api.chat("warm up")
    world.upstream.fail_next = ErrorCode.FILTERED
    events = await world.api.stream("hi")
    assert [e["type"] for e in events] == ["start", "error"]
    assert events[1]["error"]["code"] == "MODEL_ERROR" and events[1]["error"]["reason"] == "filtered"


async def test_an_unexpected_failure_is_a_logged_500_in_the_error_shape(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.core.store.close()  # every store call now fails
    reply = await world.api.call("GET", "/api/conversations")
    assert reply.status == 500 and reply.body["error"]["code"] == "INTERNAL_ERROR"
    assert any(r.levelname == "ERROR" and "/api/conversations" in r.getMessage() for r in caplog.records)
