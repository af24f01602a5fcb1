"""The fake Character.AI server driven over real sockets with raw aiohttp: REST, the DM websocket, faults."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fakes.characterai import FakeCharacter, FakeCharacterAI, FakeUser

PIRATE = FakeCharacter(id="char_pirate", name="Pirate Pete", greeting="Arr, welcome aboard!", style="pirate")
ECHO = FakeCharacter(id="char_echo", name="Echo", greeting="Say something.", style="echo")
OTHER_TOKEN = "other-test-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeCharacterAI]:
    server = FakeCharacterAI(characters=[PIRATE, ECHO], seed=7, chunk_chars=5,
                             users={OTHER_TOKEN: FakeUser(user_id=7, username="other")})
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def auth(fake: FakeCharacterAI, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Token {token or fake.token}"}


async def open_dm(http: aiohttp.ClientSession, fake: FakeCharacterAI, quoted: bool = True) -> Any:
    value = f'"Token {fake.token}"' if quoted else f"Token {fake.token}"
    return await http.ws_connect(fake.ws_url, headers={"Cookie": f"edge_rollout=60; HTTP_AUTHORIZATION={value}"})


async def send(ws: Any, command: str, payload: dict[str, Any], request_id: str | None = "auto") -> str | None:
    rid = str(uuid.uuid4()) if request_id == "auto" else request_id
    frame: dict[str, Any] = {"command": command, "origin_id": "web-next", "payload": payload}
    if rid is not None:
        frame["request_id"] = rid
    await ws.send_json(frame)
    return rid


async def until_final(ws: Any) -> list[dict[str, Any]]:
    """Frames up to and including the final character frame (or an error frame)."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await ws.receive_json(timeout=5)
        frames.append(frame)
        if frame["command"] not in ("add_turn", "update_turn"):
            return frames
        turn = frame["turn"]
        if not turn["author"].get("is_human") and turn["candidates"][0].get("is_final"):
            return frames


async def new_chat(ws: Any, character_id: str, greeting: bool = True) -> str:
    chat_id = str(uuid.uuid4())
    chat = {"chat_id": chat_id, "character_id": character_id, "creator_id": "424242",
            "visibility": "VISIBILITY_PRIVATE", "type": "TYPE_ONE_ON_ONE"}
    await send(ws, "create_chat", {"chat": chat, "with_greeting": greeting})
    assert (await ws.receive_json(timeout=5))["command"] == "create_chat_response"
    if greeting:
        assert (await ws.receive_json(timeout=5))["command"] == "add_turn"
    return chat_id


def user_turn(chat_id: str, text: str) -> dict[str, Any]:
    candidate_id = str(uuid.uuid4())
    return {
        "character_id": "",
        "num_candidates": 1,
        "turn": {
            "turn_key": {"chat_id": chat_id, "turn_id": str(uuid.uuid4())},
            "author": {"author_id": "424242", "is_human": True, "name": ""},
            "candidates": [{"candidate_id": candidate_id, "raw_content": text}],
            "primary_candidate_id": candidate_id,
        },
    }


async def say(ws: Any, chat_id: str, text: str, character_id: str) -> list[dict[str, Any]]:
    payload = user_turn(chat_id, text)
    payload["character_id"] = character_id
    await send(ws, "create_and_generate_turn", payload)
    return await until_final(ws)


# ---------------------------------------------------------------- REST


async def test_profile_has_doubly_nested_integer_id(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    response = await http.get(f"{fake.plus_url}/chat/user/", headers=auth(fake))
    assert response.status == 200
    assert (await response.json())["user"]["user"]["id"] == fake.user.user_id
    settings = await http.get(f"{fake.plus_url}/chat/user/settings", headers=auth(fake))
    assert settings.status == 200


@pytest.mark.parametrize("headers", [{"Authorization": "Token wrong"}, {}])
async def test_rest_rejects_bad_token_with_401(
    fake: FakeCharacterAI, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    response = await http.get(f"{fake.plus_url}/chat/user/", headers=headers)
    assert (response.status, await response.text()) == (401, "Unauthorized")


async def test_character_info_known_and_unknown(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    url = f"{fake.neo_url}/character/v1/get_character_info"
    known = await (await http.post(url, json={"external_id": PIRATE.id}, headers=auth(fake))).json()
    assert (known["character"]["name"], known["character"]["greeting"]) == (PIRATE.name, PIRATE.greeting)
    response = await http.post(url, json={"external_id": "nobody"}, headers=auth(fake))
    assert response.status == 200
    assert (await response.json())["status"] == "NOT_OK"


# ---------------------------------------------------------------- DM socket: auth and chats


@pytest.mark.parametrize("cookie", ['HTTP_AUTHORIZATION="Token wrong"', "HTTP_AUTHORIZATION=Token wrong", None])
async def test_dm_socket_refuses_bad_token_with_403(
    fake: FakeCharacterAI, http: aiohttp.ClientSession, cookie: str | None
) -> None:
    headers = {"Cookie": cookie} if cookie else {}
    with pytest.raises(aiohttp.WSServerHandshakeError) as error:
        await http.ws_connect(fake.ws_url, headers=headers)
    assert error.value.status == 403


@pytest.mark.parametrize("quoted", [True, False])
async def test_create_chat_returns_response_then_final_greeting(
    fake: FakeCharacterAI, http: aiohttp.ClientSession, quoted: bool
) -> None:
    ws = await open_dm(http, fake, quoted=quoted)
    chat = {"chat_id": "chat-given-by-client", "character_id": PIRATE.id, "creator_id": "424242"}
    rid = await send(ws, "create_chat", {"chat": chat, "with_greeting": True})
    response, greeting = await ws.receive_json(timeout=5), await ws.receive_json(timeout=5)
    assert response["command"] == "create_chat_response" and response["request_id"] == rid
    assert response["chat"]["chat_id"] == "chat-given-by-client"
    assert greeting["command"] == "add_turn" and greeting["request_id"] == rid
    assert greeting["turn"]["author"]["author_id"] == PIRATE.id
    assert greeting["turn"]["candidates"][0]["is_final"] is True
    assert greeting["turn"]["candidates"][0]["raw_content"] == PIRATE.greeting
    assert fake.chat("chat-given-by-client").character_id == PIRATE.id


async def test_create_chat_unknown_character_is_neo_error(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    rid = await send(ws, "create_chat", {"chat": {"chat_id": "x", "character_id": "ghost"}, "with_greeting": True})
    error = await ws.receive_json(timeout=5)
    assert (error["command"], error["request_id"], error["error_code"]) == ("neo_error", rid, 404)


async def test_streamed_reply_grows_and_ends_final(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    frames = await say(ws, chat_id, "hello there, friend", ECHO.id)
    human, character = frames[0], frames[1:]
    assert human["command"] == "add_turn" and human["turn"]["author"]["is_human"] is True
    assert human["turn"]["candidates"][0]["is_final"] is True
    assert character[0]["command"] == "add_turn" and "is_final" not in character[0]["turn"]["candidates"][0]
    assert all(f["command"] == "update_turn" for f in character[1:])
    assert all("is_final" not in f["turn"]["candidates"][0] for f in character[:-1])
    assert character[-1]["turn"]["candidates"][0]["is_final"] is True
    texts = [f["turn"]["candidates"][0]["raw_content"] for f in character]
    assert len(texts) >= 3
    assert all(a != b and b.startswith(a) for a, b in itertools.pairwise(texts))
    assert texts[-1] == "Echo: hello there, friend"
    assert len({(f["turn"]["turn_key"]["turn_id"], f["turn"]["candidates"][0]["candidate_id"]) for f in character}) == 1
    assert all(f["request_id"] == human["request_id"] and "generation_mode" in f for f in character)


async def test_minimal_turn_without_request_id_is_filled_in(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id, greeting=False)
    await ws.send_str("{}")  # keep-alive and Centrifugo frames are ignored on /ws/
    await ws.send_json({"connect": {"name": "js"}, "id": 1})
    minimal = [{"raw_content": "hi", "tti_image_rel_path": None}]
    turn = {"turn_key": {"chat_id": chat_id}, "author": {}, "candidates": minimal}
    await send(ws, "create_and_generate_turn", {"character_id": ECHO.id, "turn": turn}, request_id=None)
    frames = await until_final(ws)
    assert all(f["request_id"] is None for f in frames)
    human = frames[0]["turn"]
    assert human["turn_key"]["turn_id"] and human["candidates"][0]["candidate_id"]
    assert human["author"]["author_id"] == str(fake.user.user_id)


async def test_same_input_gives_same_reply_and_scripts_override(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    ws = await open_dm(http, fake)
    first, second = await new_chat(ws, PIRATE.id), await new_chat(ws, PIRATE.id)
    text_a = (await say(ws, first, "Is this my ship?", PIRATE.id))[-1]["turn"]["candidates"][0]["raw_content"]
    text_b = (await say(ws, second, "Is this my ship?", PIRATE.id))[-1]["turn"]["candidates"][0]["raw_content"]
    assert text_a == text_b
    assert '"Be this me ship?"' in text_a  # the pirate style rewrites the user's words
    fake.script_reply(PIRATE.id, "Exactly this.")
    fake.script_reply(PIRATE.id, length=777)
    assert (await say(ws, first, "x", PIRATE.id))[-1]["turn"]["candidates"][0]["raw_content"] == "Exactly this."
    assert len((await say(ws, first, "x", PIRATE.id))[-1]["turn"]["candidates"][0]["raw_content"]) == 777
    assert [m.frame["payload"]["turn"]["candidates"][0]["raw_content"]
            for m in fake.received("dm", "create_and_generate_turn")] == ["Is this my ship?"] * 2 + ["x", "x"]


async def test_regenerate_edit_primary_pin_and_remove(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    reply = (await say(ws, chat_id, "one", ECHO.id))[-1]["turn"]
    key = reply["turn_key"]
    old_candidate = reply["candidates"][0]["candidate_id"]

    await send(ws, "generate_turn_candidate", {"character_id": ECHO.id, "turn_key": key})
    frames = await until_final(ws)
    assert {f["command"] for f in frames} == {"update_turn"}
    new = frames[-1]["turn"]
    assert new["candidates"][0]["candidate_id"] == new["primary_candidate_id"] != old_candidate
    assert new["candidates"][0]["raw_content"] == "Echo #2: one"

    await send(ws, "edit_turn_candidate", {"turn_key": key, "new_candidate_raw_content": "edited"})
    edited = await ws.receive_json(timeout=5)
    candidate = edited["turn"]["candidates"][0]
    assert edited["command"] == "update_turn" and candidate["raw_content"] == "edited" and candidate["is_final"]
    assert candidate["editor"]["author_id"] == str(fake.user.user_id)

    await send(ws, "update_primary_candidate", {"candidate_id": old_candidate, "turn_key": key}, request_id=None)
    assert await ws.receive_json(timeout=5) == {"command": "ok", "request_id": None}
    assert fake.chat(chat_id).turns[-1].primary_candidate_id == old_candidate

    await send(ws, "set_turn_pin", {"turn_key": key, "is_pinned": True})
    assert (await ws.receive_json(timeout=5))["turn"]["is_pinned"] is True
    pinned = await (await http.get(f"{fake.neo_url}/turns/{chat_id}/?pinned_only=true", headers=auth(fake))).json()
    assert [t["turn_key"]["turn_id"] for t in pinned["turns"]] == [key["turn_id"]]

    rid = await send(ws, "remove_turns", {"chat_id": chat_id, "turn_ids": [key["turn_id"]]})
    assert await ws.receive_json(timeout=5) == {"command": "remove_turns_response", "request_id": rid,
                                                "chat_id": chat_id, "turn_ids": [key["turn_id"]]}
    assert key["turn_id"] not in [t.turn_id for t in fake.chat(chat_id).turns]


async def test_history_is_paginated_newest_first(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    fake.configure(page_size=3)
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    for index in range(3):
        await say(ws, chat_id, f"message {index}", ECHO.id)
    expected = [t.turn_id for t in reversed(fake.chat(chat_id).turns)]  # greeting + 3 x (user, reply)
    seen: list[str] = []
    url = f"{fake.neo_url}/turns/{chat_id}"  # no trailing slash, as CAINode sends it
    token: str | None = None
    while True:
        query = {"next_token": token} if token else {}
        page = await (await http.get(url, params=query, headers=auth(fake))).json()
        assert len(page["turns"]) <= 3 and all(c["is_final"] for t in page["turns"] for c in t["candidates"])
        seen += [t["turn_key"]["turn_id"] for t in page["turns"]]
        token = page["meta"]["next_token"]
        if token is None:
            break
    assert seen == expected and len(seen) == 7
    bad = await http.get(url, params={"next_token": "garbage"}, headers=auth(fake))
    assert bad.status == 400 and (await bad.json())["command"] == "neo_error"


async def test_recent_chat_with_character(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    url = f"{fake.neo_url}/chats/recent/{PIRATE.id}"
    none = await http.get(url, headers=auth(fake))
    assert none.status == 404 and "chats" not in await none.json()
    ws = await open_dm(http, fake)
    await new_chat(ws, PIRATE.id)
    latest = await new_chat(ws, PIRATE.id)
    body = await (await http.get(url, headers=auth(fake))).json()
    assert [c["chat_id"] for c in body["chats"]] == [latest]
    other = await http.get(url, headers=auth(fake, OTHER_TOKEN))
    assert other.status == 404  # chats belong to their creator
    assert (await http.get(f"{fake.neo_url}/chat/{latest}/", headers=auth(fake, OTHER_TOKEN))).status == 404


async def test_unknown_command_and_chat_are_neo_errors(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    rid = await send(ws, "dance", {})
    assert (await ws.receive_json(timeout=5))["request_id"] == rid
    await send(ws, "create_and_generate_turn", user_turn("no-such-chat", "hi"))
    error = await ws.receive_json(timeout=5)
    assert (error["command"], error["error_code"]) == ("neo_error", 404)


async def test_rest_chat_management(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    await say(ws, chat_id, "keep me", ECHO.id)
    base, headers = fake.neo_url, auth(fake)
    listed = await (await http.get(f"{base}/chats/", params={"character_ids": ECHO.id, "num_preview_turns": "2"},
                                   headers=headers)).json()
    assert [c["chat_id"] for c in listed["chats"]] == [chat_id] and len(listed["chats"][0]["preview_turns"]) == 2
    renamed = await http.patch(f"{base}/chat/{chat_id}/update_name", json={"name": "Renamed"}, headers=headers)
    assert renamed.status == 200 and fake.chat(chat_id).name == "Renamed"
    assert (await http.patch(f"{base}/chat/{chat_id}/archive", headers=headers)).status == 200
    again = await http.patch(f"{base}/chat/{chat_id}/archive", headers=headers)
    assert again.status == 400 and (await again.json())["command"] == "neo_error"
    archived = await (await http.get(f"{base}/chat/{chat_id}", headers=headers)).json()
    assert archived["chat"]["state"] == "STATE_ARCHIVED"
    assert (await http.patch(f"{base}/chat/{chat_id}/unarchive", headers=headers)).status == 200
    user_turn_id = fake.chat(chat_id).turns[1].turn_id
    copied = await (await http.post(f"{base}/chat/{chat_id}/copy", json={"end_turn_id": user_turn_id},
                                    headers=headers)).json()
    copy = fake.chat(copied["new_chat_id"])
    assert [t.text() for t in copy.turns] == [ECHO.greeting, "keep me"]
    resurrected = await http.get(f"{base}/chat/{chat_id}/resurrect", headers=headers)
    assert resurrected.status == 200
    assert (await http.get(f"{base}/chat/no-such-chat/", headers=headers)).status == 404
