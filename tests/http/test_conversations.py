"""The conversation endpoints: list, read (with the backend's history), delete, clear; ids and visibility."""

from __future__ import annotations

import base64

import pytest

from adapters.http.identity import encode_conversation_id
from bot.models import ChatRequest, ReplyTarget
from bot.ports import EVERYONE
from tests.core.scripted_upstream import ScriptedUpstream
from tests.door_support import plan_events
from tests.http.support import World


async def _telegram_turn(world: World) -> None:
    """A conversation of another platform in the same store, which the HTTP API must never show."""
    request = ChatRequest(
        platform="telegram", conversation_id="telegram:-100", user_id="telegram:1", user_name="Tg", is_dm=False,
        text="from telegram", message_id="telegram:-100:1", mentions_bot=True,
        target=ReplyTarget(platform="telegram", chat="-100"),
    )
    events = [event async for event in plan_events(world.core.door, request)]
    assert events[-1].kind == "final"


async def _conversation_id(world: World, message: str, user: str, group: str | None = None) -> str:
    fields = {"groupId": group} if group else {}
    reply = await world.api.chat(message, user=user, **fields)
    assert reply.status == 200
    return str(reply.body["data"]["conversationId"])


async def test_list_shows_http_conversations_newest_first_with_filters(world: World) -> None:
    await _telegram_turn(world)
    alice_dm = await _conversation_id(world, "a1", "alice")
    bob_dm = await _conversation_id(world, "b1", "bob")
    group = await _conversation_id(world, "g1", "alice", group="team")

    listed = await world.api.call("GET", "/api/conversations")
    assert listed.status == 200
    data = listed.body["data"]
    assert data["total"] == 3
    assert [c["id"] for c in data["conversations"]] == [group, bob_dm, alice_dm]
    first = data["conversations"][0]
    assert (first["userId"], first["groupId"], first["preset"], first["messageCount"]) == ("alice", "team", "ada", 2)
    assert first["lastMessage"] == ScriptedUpstream.answer("ada", "g1")
    assert data["conversations"][1]["groupId"] is None

    by_alice = (await world.api.call("GET", "/api/conversations?userId=alice")).body["data"]
    assert (by_alice["total"], [c["id"] for c in by_alice["conversations"]]) == (2, [group, alice_dm])
    by_group = (await world.api.call("GET", "/api/conversations?groupId=team")).body["data"]
    assert [c["id"] for c in by_group["conversations"]] == [group]
    both = (await world.api.call("GET", "/api/conversations?userId=bob&groupId=team")).body["data"]
    assert both == {"conversations": [], "total": 0}


async def _ids(world: World, query: str) -> tuple[list[str], int]:
    data = (await world.api.call("GET", f"/api/conversations?{query}")).body["data"]
    return [c["id"] for c in data["conversations"]], data["total"]


async def test_a_users_list_keeps_the_groups_they_spoke_in_after_others_speak(world: World) -> None:
    alice_dm = await _conversation_id(world, "hello", "alice")
    team = await _conversation_id(world, "morning", "alice", group="team")
    await world.api.chat("me too", user="bob", groupId="team")  # bob speaks last in team
    club = await _conversation_id(world, "hi club", "alice", group="club")
    await world.api.chat("welcome", user="carol", groupId="club")
    await _conversation_id(world, "not alice's", "dave", group="other")

    assert await _ids(world, "userId=alice") == ([club, team, alice_dm], 3)
    listed = (await world.api.call("GET", "/api/conversations?userId=alice")).body["data"]["conversations"]
    assert [c["userId"] for c in listed] == ["carol", "bob", "alice"]  # each names its last speaker
    assert await _ids(world, "userId=alice&limit=1&offset=1") == ([team], 3)
    assert await _ids(world, "userId=alice&limit=2&offset=2") == ([alice_dm], 3)
    assert await _ids(world, "userId=alice&groupId=team") == ([team], 1)
    assert await _ids(world, "userId=bob") == ([team], 1)
    assert await _ids(world, "userId=bob&groupId=club") == ([], 0)

    await world.api.chat("still here", user="carol", groupId="team")  # activity by anybody moves it up
    assert await _ids(world, "userId=alice") == ([team, club, alice_dm], 3)


async def test_user_and_group_find_the_users_own_conversation_with_a_per_user_preset(world: World) -> None:
    alice = (await world.api.chat("hi", user="alice", groupId="guild", preset="kira")).body["data"]["conversationId"]
    bob = await _conversation_id(world, "hi", "bob", group="guild")
    assert await _ids(world, "userId=alice&groupId=guild") == ([alice], 1)
    assert await _ids(world, "userId=bob&groupId=guild") == ([bob], 1)
    assert await _ids(world, "groupId=guild") == ([bob, alice], 2)


async def test_times_are_epoch_milliseconds(world: World) -> None:
    world.store_clock.now, world.store_clock.tick = 1_767_323_045.678, 0.0  # 2026-01-02T03:04:05.678Z
    conversation = await _conversation_id(world, "hi", "alice")
    listed = (await world.api.call("GET", "/api/conversations")).body["data"]["conversations"]
    assert listed[0]["updatedAt"] == 1_767_323_045_678
    detail = (await world.api.call("GET", f"/api/conversations/{conversation}")).body["data"]
    assert detail["updatedAt"] == 1_767_323_045_678


async def test_list_pages_with_limit_and_offset(world: World) -> None:
    await _telegram_turn(world)
    ids = [await _conversation_id(world, "hi", f"user{n}") for n in range(5)]
    newest_first = list(reversed(ids))
    page = (await world.api.call("GET", "/api/conversations?limit=2&offset=1")).body["data"]
    assert page["total"] == 5 and [c["id"] for c in page["conversations"]] == newest_first[1:3]
    filtered = (await world.api.call("GET", "/api/conversations?userId=user3&limit=1&offset=0")).body["data"]
    assert filtered["total"] == 1 and [c["id"] for c in filtered["conversations"]] == [ids[3]]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=many", "userId=a:b", "groupId=x/y"])
async def test_list_rejects_bad_query_parameters(world: World, query: str) -> None:
    reply = await world.api.call("GET", f"/api/conversations?{query}")
    assert reply.status == 400 and reply.body["error"]["code"] == "INVALID_REQUEST"


async def test_get_returns_the_messages_from_the_backend(world: World) -> None:
    conversation = await _conversation_id(world, "first", "alice")
    await world.api.chat("second", user="alice")
    reply = await world.api.call("GET", f"/api/conversations/{conversation}")
    assert reply.status == 200
    data = reply.body["data"]
    assert (data["id"], data["userId"], data["groupId"], data["messageCount"]) == (conversation, "alice", None, 4)
    assert [(m["role"], m["content"]) for m in data["messages"]] == [
        ("user", "first"),
        ("assistant", ScriptedUpstream.answer("ada", "first")),
        ("user", "second"),
        ("assistant", ScriptedUpstream.answer("ada", "second")),
    ]
    latest = (await world.api.call("GET", f"/api/conversations/{conversation}?limit=1")).body["data"]
    assert [m["content"] for m in latest["messages"]] == [ScriptedUpstream.answer("ada", "second")]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "conversation_id",
    [
        "not-an-id",
        _b64(b"just text"),
        _b64(b'{"c": "http:dm:alice", "w": "*"}'),  # not the canonical (compact) encoding
        _b64(b'{"c":"http:dm:alice"}'),
        _b64(b'["http:dm:alice","*"]'),
        encode_conversation_id("telegram:-100", EVERYONE),  # another platform's conversation
        encode_conversation_id("http:dm:nobody", EVERYONE),  # well-formed, but unknown
        "A" * 700,
    ],
)
async def test_unknown_or_malformed_ids_are_not_found(world: World, conversation_id: str) -> None:
    await _telegram_turn(world)
    await world.api.chat("hi")
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/clear")):
        reply = await world.api.call(method, f"/api/conversations/{conversation_id}{suffix}")
        assert reply.status == 404, (method, suffix)
        assert reply.body["error"]["code"] == "CONVERSATION_NOT_FOUND"
    assert await world.core.store.get_chat_id("telegram:-100", EVERYONE) is not None


async def test_delete_forgets_the_conversation(world: World) -> None:
    conversation = await _conversation_id(world, "hi", "alice")
    other = await _conversation_id(world, "hi", "bob")
    deleted = await world.api.call("DELETE", f"/api/conversations/{conversation}")
    assert deleted.status == 200 and deleted.body == {"success": True, "message": "Conversation deleted"}
    assert (await world.api.call("GET", f"/api/conversations/{conversation}")).status == 404
    assert (await world.api.call("DELETE", f"/api/conversations/{conversation}")).status == 404
    listed = (await world.api.call("GET", "/api/conversations")).body["data"]
    assert [c["id"] for c in listed["conversations"]] == [other]
    assert await world.core.store.get_chat_id("http:dm:alice", EVERYONE) is None
    # talking again starts a fresh upstream chat under the same id
    again = await world.api.chat("hello again")
    assert again.body["data"]["conversationId"] == conversation
    fresh = (await world.api.call("GET", f"/api/conversations/{conversation}")).body["data"]
    assert [m["content"] for m in fresh["messages"]] == ["hello again", ScriptedUpstream.answer("ada", "hello again")]


async def test_delete_releases_a_preset_chosen_through_the_api(world: World) -> None:
    conversation = (await world.api.chat("hi", preset="bob")).body["data"]["conversationId"]
    assert (await world.api.chat("switch", preset="kira")).status == 400
    assert (await world.api.call("DELETE", f"/api/conversations/{conversation}")).status == 200
    assert await world.core.store.get_binding("http:dm:alice") is None
    switched = await world.api.chat("switch", preset="kira")
    assert switched.status == 200 and switched.body["data"]["response"] == ScriptedUpstream.answer("kira", "switch")


async def test_clear_starts_a_new_upstream_chat_with_the_same_character(world: World) -> None:
    conversation = (await world.api.chat("remember me", preset="bob")).body["data"]["conversationId"]
    before = await world.core.store.get_chat_id("http:dm:alice", EVERYONE)
    cleared = await world.api.call("POST", f"/api/conversations/{conversation}/clear")
    assert cleared.status == 200 and cleared.body == {"success": True, "message": "Context cleared"}
    after = await world.core.store.get_chat_id("http:dm:alice", EVERYONE)
    assert before is not None and after is not None and before != after
    detail = (await world.api.call("GET", f"/api/conversations/{conversation}")).body["data"]
    assert (detail["messageCount"], detail["messages"], detail["preset"]) == (0, [], "bob")
    assert detail["updatedAt"] is None and detail["userId"] == "alice"
    reply = await world.api.chat("who are you?")
    assert reply.body["data"]["response"] == ScriptedUpstream.answer("bob", "who are you?")
    assert world.upstream.chats[after] == ["who are you?", ScriptedUpstream.answer("bob", "who are you?")]


async def test_clear_of_a_per_user_group_conversation_leaves_the_others(world: World) -> None:
    alice = (await world.api.chat("hi", user="alice", groupId="guild", preset="kira")).body["data"]["conversationId"]
    await world.api.chat("hi", user="bob", groupId="guild")
    bob_chat = await world.core.store.get_chat_id("http:guild", "http:bob")
    alice_chat = await world.core.store.get_chat_id("http:guild", "http:alice")
    assert (await world.api.call("POST", f"/api/conversations/{alice}/clear")).status == 200
    assert await world.core.store.get_chat_id("http:guild", "http:bob") == bob_chat
    assert await world.core.store.get_chat_id("http:guild", "http:alice") not in (None, alice_chat)
