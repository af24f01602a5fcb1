"""Group rooms of the fake Character.AI server: muroom REST, the Centrifugo room socket, and the
one-active-connection-per-room rule (raw aiohttp client)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fakes.characterai import FakeCharacter, FakeCharacterAI, FakeUser

PIRATE = FakeCharacter(id="char_pirate", name="Pirate Pete", greeting="Arr!", style="pirate")
LIBRARIAN = FakeCharacter(id="char_lib", name="Librarian Liz", greeting="Shh.", style="librarian")
FRIEND_TOKEN = "friend-test-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeCharacterAI]:
    server = FakeCharacterAI(characters=[PIRATE, LIBRARIAN], seed=5, chunk_chars=6,
                             users={FRIEND_TOKEN: FakeUser(user_id=99, username="friend")})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


async def create_room(http: aiohttp.ClientSession, fake: FakeCharacterAI, **extra: Any) -> dict[str, Any]:
    body = {"characters": [PIRATE.id, LIBRARIAN.id], "title": "Tavern", "with_greeting": True,
            "settings": {"anyone_can_join": True, "require_approval": False},
            "visibility": "VISIBILITY_UNLISTED", **extra}
    response = await http.post(f"{fake.neo_url}/muroom/create", json=body, headers=auth(fake.token))
    assert response.status == 200
    room: dict[str, Any] = await response.json()
    return room


async def connect(http: aiohttp.ClientSession, fake: FakeCharacterAI, token: str | None = None) -> Any:
    ws = await http.ws_connect(fake.room_ws_url,
                               headers={"Cookie": f'HTTP_AUTHORIZATION="Token {token or fake.token}"'})
    # node_characterai / CAINode style: two commands concatenated in one frame, both with id 1
    user_id = fake.user.user_id if token in (None, fake.token) else 99
    await ws.send_str(json.dumps({"connect": {"name": "js"}, "id": 1})
                      + json.dumps({"subscribe": {"channel": f"user#{user_id}"}, "id": 1}))
    connected, subscribed = await ws.receive_json(timeout=5), await ws.receive_json(timeout=5)
    assert connected["id"] == 1 and connected["connect"]["pong"] is True
    assert subscribed == {"id": 1, "subscribe": {}}
    return ws


async def join(ws: Any, room_id: str, command_id: int = 1) -> dict[str, Any]:
    await ws.send_json({"subscribe": {"channel": f"room:{room_id}"}, "id": command_id})
    reply: dict[str, Any] = await ws.receive_json(timeout=5)
    return reply


async def rpc(ws: Any, command: str, payload: dict[str, Any], request_id: str) -> None:
    await ws.send_json({"id": 1, "rpc": {"method": "unused_command", "data": {
        "command": command, "request_id": request_id, "payload": payload, "origin_id": "Android"}}})


def human_turn(room_id: str, text: str) -> dict[str, Any]:
    return {"chat_type": "TYPE_MU_ROOM", "num_candidates": 1, "user_name": "someone", "turn": {
        "turn_key": {"turn_id": "t-" + text, "chat_id": room_id},
        "author": {"author_id": "424242", "is_human": True, "name": "someone"},
        "candidates": [{"candidate_id": "t-" + text, "raw_content": text}], "primary_candidate_id": "t-" + text}}


async def pushes_until_final(ws: Any) -> list[dict[str, Any]]:
    pushes: list[dict[str, Any]] = []
    while True:
        frame = await ws.receive_json(timeout=5)
        if "push" not in frame:
            continue
        pushes.append(frame["push"])
        data = frame["push"]["pub"]["data"]
        if data.get("command") == "neo_error" or data["turn"]["candidates"][0].get("is_final"):
            return pushes


async def test_room_rest_create_list_patch_delete(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    room = await create_room(http, fake)
    assert [c["id"] for c in room["characters"]] == [PIRATE.id, LIBRARIAN.id]
    listed = await (await http.get(f"{fake.neo_url}/murooms/?include_turns=false", headers=auth(fake.token))).json()
    assert [r["id"] for r in listed["rooms"]] == [room["id"]]
    history = await (await http.get(f"{fake.neo_url}/turns/{room['id']}/", headers=auth(fake.token))).json()
    assert sorted(t["author"]["author_id"] for t in history["turns"]) == sorted([PIRATE.id, LIBRARIAN.id])
    patch = [{"op": "replace", "path": f"/muroom/{room['id']}", "value": {"title": "Inn"}},
             {"op": "remove", "path": f"/muroom/{room['id']}/characters", "value": {"id": LIBRARIAN.id}}]
    patched = await (await http.patch(f"{fake.neo_url}/muroom/{room['id']}/", json=patch,
                                      headers=auth(fake.token))).json()
    assert patched["title"] == "Inn" and patched["characters"]["removed"] == [LIBRARIAN.id]
    assert fake.room(room["id"]).character_ids == [PIRATE.id]
    bad = await http.post(f"{fake.neo_url}/muroom/create", json={"characters": ["ghost"]}, headers=auth(fake.token))
    assert bad.status == 400
    assert (await http.delete(f"{fake.neo_url}/muroom/{room['id']}/", headers=auth(fake.token))).status == 200
    assert room["id"] not in fake.world.rooms


async def test_room_socket_refuses_bad_token(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as error:
        await http.ws_connect(fake.room_ws_url, headers={"Cookie": "HTTP_AUTHORIZATION=Token nope"})
    assert error.value.status == 403


async def test_create_turn_and_generate_turn_push_to_the_room(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    room_id = (await create_room(http, fake))["id"]
    ws = await connect(http, fake)
    assert (await join(ws, room_id))["subscribe"]["recoverable"] is True
    await rpc(ws, "create_turn", human_turn(room_id, "Hello Librarian Liz"), "req-1")
    assert await ws.receive_json(timeout=5) == {"id": 1, "rpc": {"data": {}}}
    push = (await pushes_until_final(ws))[0]
    data = push["pub"]["data"]
    assert push["channel"] == f"room:{room_id}" and data["request_id"] == "req-1"
    assert data["turn"]["author"]["is_human"] is True and data["turn"]["candidates"][0]["is_final"] is True
    assert data["chat_info"]["type"] == "TYPE_MU_ROOM"

    await rpc(ws, "generate_turn", {"chat_type": "TYPE_MU_ROOM", "chat_id": room_id, "smart_reply": "CHARACTERS",
                                    "smart_reply_delay": 0}, "req-2")
    pushes = await pushes_until_final(ws)
    datas = [p["pub"]["data"] for p in pushes]
    assert next(d["command"] for d in datas) == "add_turn" and {d["command"] for d in datas[1:]} == {"update_turn"}
    assert all(d["request_id"] == "req-2" and "smart_reply_status" in d and "generation_mode" in d for d in datas)
    assert {d["turn"]["author"]["author_id"] for d in datas} == {LIBRARIAN.id}  # named in the message
    texts = [d["turn"]["candidates"][0]["raw_content"] for d in datas]
    assert all(b.startswith(a) and len(b) > len(a) for a, b in itertools.pairwise(texts))
    offsets = [push["pub"]["offset"]] + [p["pub"]["offset"] for p in pushes]
    assert offsets == sorted(set(offsets)) and len(offsets) == len(datas) + 1


async def test_second_connection_to_a_room_is_rejected_and_counted(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    room_id = (await create_room(http, fake))["id"]
    first, second = await connect(http, fake), await connect(http, fake)
    assert "subscribe" in await join(first, room_id)
    assert await join(second, room_id, command_id=3) == {"id": 3, "error": {"code": 106, "message": "limit exceeded"}}
    assert fake.room_violations == 1
    counters = await (await http.get(f"{fake.base_url}/_fake/counters")).json()
    assert counters["room_violations"] == 1
    assert (await join(first, room_id))["error"]["code"] == 105  # same connection again: not a violation
    await rpc(second, "create_turn", human_turn(room_id, "sneaky"), "req-x")
    assert (await second.receive_json(timeout=5))["error"]["code"] == 103
    assert fake.chat(room_id).turns[-1].text() != "sneaky"

    await first.send_json({"unsubscribe": {"channel": f"room:{room_id}"}, "id": 4})
    assert await first.receive_json(timeout=5) == {"id": 4, "unsubscribe": {}}
    assert "subscribe" in await join(second, room_id)  # released at once
    await second.close()
    assert "subscribe" in await join(first, room_id)  # closing releases too
    assert fake.room_violations == 1 and fake.room_subscribers(room_id) == 1


async def test_evict_mode_moves_the_room_to_the_newcomer(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    fake.configure(room_mode="evict")
    room_id = (await create_room(http, fake))["id"]
    old, new = await connect(http, fake), await connect(http, fake)
    await join(old, room_id)
    assert "subscribe" in await join(new, room_id)
    notice = await old.receive_json(timeout=5)
    assert notice["push"]["channel"] == f"room:{room_id}" and notice["push"]["unsubscribe"]["code"] == 2500
    assert fake.room_violations == 1
    await rpc(new, "create_turn", human_turn(room_id, "mine now"), "req-e")
    assert (await pushes_until_final(new))[0]["pub"]["data"]["request_id"] == "req-e"

    fake.configure(evict_close_code=3504)
    third = await connect(http, fake)
    assert "subscribe" in await join(third, room_id)
    closing = await new.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 3504
    assert fake.room_violations == 2


async def test_room_members_only_and_regenerate(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    room_id = (await create_room(http, fake, with_greeting=False))["id"]
    outsider = await connect(http, fake, token=FRIEND_TOKEN)
    assert (await join(outsider, room_id))["error"]["code"] == 103
    ws = await connect(http, fake)
    await join(ws, room_id)
    fake.script_reply(PIRATE.id, "First take.")
    fake.script_reply(PIRATE.id, "Second take.")
    await rpc(ws, "generate_turn", {"chat_type": "TYPE_MU_ROOM", "chat_id": room_id, "character_id": PIRATE.id}, "g")
    turn = (await pushes_until_final(ws))[-1]["pub"]["data"]["turn"]
    assert turn["candidates"][0]["raw_content"] == "First take."
    await rpc(ws, "generate_turn_candidate", {"chat_type": "TYPE_MU_ROOM", "character_id": PIRATE.id,
                                              "turn_key": turn["turn_key"]}, "r")
    again = await pushes_until_final(ws)
    assert {p["pub"]["data"]["command"] for p in again} == {"update_turn"}
    final = again[-1]["pub"]["data"]["turn"]
    assert final["candidates"][0]["raw_content"] == "Second take."
    assert final["primary_candidate_id"] == final["candidates"][0]["candidate_id"]


async def test_room_pings_are_sent_at_the_configured_interval(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    fake.configure(ping_interval=0.05)
    ws = await connect(http, fake)
    assert await ws.receive_json(timeout=5) == {}
    await ws.send_str("{}")
    assert await ws.receive_json(timeout=5) == {}
    assert fake.counters["room_pings_sent"] >= 2
