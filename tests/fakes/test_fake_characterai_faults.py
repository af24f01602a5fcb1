"""Fault injection, limits and the HTTP control API of the fake Character.AI server (raw aiohttp client)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fakes.characterai import FakeCharacter, FakeCharacterAI

ECHO = FakeCharacter(id="char_echo", name="Echo", greeting="Say something.", style="echo")
SLOW = FakeCharacter(id="char_slow", name="Slow", greeting="Hi", style="echo", chunk_chars=1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeCharacterAI]:
    server = FakeCharacterAI(characters=[ECHO, SLOW], seed=3, chunk_chars=4)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def open_dm(http: aiohttp.ClientSession, fake: FakeCharacterAI) -> Any:
    return await http.ws_connect(fake.ws_url, headers={"Cookie": f'HTTP_AUTHORIZATION="Token {fake.token}"'})


async def new_chat(ws: Any, character_id: str) -> str:
    chat_id = str(uuid.uuid4())
    await ws.send_json({"command": "create_chat", "request_id": "create", "payload": {
        "chat": {"chat_id": chat_id, "character_id": character_id}, "with_greeting": False}})
    assert (await ws.receive_json(timeout=5))["command"] == "create_chat_response"
    return chat_id


async def ask(ws: Any, chat_id: str, text: str, character_id: str = ECHO.id) -> str:
    request_id = str(uuid.uuid4())
    await ws.send_json({"command": "create_and_generate_turn", "request_id": request_id, "payload": {
        "character_id": character_id,
        "turn": {"turn_key": {"chat_id": chat_id}, "author": {}, "candidates": [{"raw_content": text}]}}})
    return request_id


async def frames_until_final(ws: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = await ws.receive_json(timeout=5)
        frames.append(frame)
        turn = frame.get("turn")
        if turn is None or (not turn["author"].get("is_human") and turn["candidates"][0].get("is_final")):
            return frames


def text_of(frame: dict[str, Any]) -> str:
    return str(frame["turn"]["candidates"][0]["raw_content"])


async def test_injected_neo_error_replaces_the_whole_answer(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    fake.inject("neo_error", command="create_and_generate_turn", comment="boom", error_code=500, sub_code=7)
    rid = await ask(ws, chat_id, "first")
    error = await ws.receive_json(timeout=5)
    assert error == {"command": "neo_error", "request_id": rid, "comment": "boom", "error_code": 500,
                     "sub_code": 7, "retry_after_seconds": None}
    second = await ask(ws, chat_id, "second")
    frames = await frames_until_final(ws)
    assert {f["request_id"] for f in frames} == {second}  # nothing left over from the failed request
    assert text_of(frames[-1]) == "Echo: second"


@pytest.mark.parametrize(
    ("kind", "command", "extra"),
    [
        ("rate_limit", "neo_error", {"error_code": 429, "retry_after_seconds": 2.5}),
        ("self_harm_filter", "filter_user_input_self_harm", {}),
        ("input_filter", "filter_user_input", {}),
    ],
)
async def test_refusal_faults(
    fake: FakeCharacterAI, http: aiohttp.ClientSession, kind: str, command: str, extra: dict[str, Any]
) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    fake.inject(kind, retry_after_seconds=2.5)  # type: ignore[arg-type]
    rid = await ask(ws, chat_id, "hello")
    frame = await ws.receive_json(timeout=5)
    assert frame["command"] == command and frame["request_id"] == rid
    assert {k: frame[k] for k in extra} == extra
    assert fake.chat(chat_id).turns == []


async def test_safety_truncated_final_candidate(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    fake.script_reply(ECHO.id, "abcdefghijklmnop")
    fake.inject("safety_truncate", keep_chars=6)
    await ask(ws, chat_id, "tell me")
    character = (await frames_until_final(ws))[1:]
    assert text_of(character[-1]) == "abcdef"
    assert character[-1]["turn"]["candidates"][0]["safety_truncated"] is True
    assert all("safety_truncated" not in f["turn"]["candidates"][0] for f in character[:-1])


async def test_drop_closes_socket_after_k_snapshots(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    fake.inject("drop", after_snapshots=2, close_code=4000)
    await ask(ws, chat_id, "a long enough message")
    frames = [await ws.receive_json(timeout=5) for _ in range(3)]  # the user turn + 2 snapshots
    assert [f["command"] for f in frames] == ["add_turn", "add_turn", "update_turn"]
    closing = await ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4000
    again = await open_dm(http, fake)  # a reconnect works, and the chat is still there
    await ask(again, chat_id, "after")
    assert text_of((await frames_until_final(again))[-1]) == "Echo: after"


async def test_drop_without_close_code_aborts_tcp(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    fake.inject("drop", after_snapshots=0, close_code=None)
    await ask(ws, chat_id, "hi")
    assert (await ws.receive_json(timeout=5))["turn"]["author"]["is_human"] is True
    message = await ws.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)


async def test_stall_holds_the_stream_until_released(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    fake.inject("stall", after_snapshots=1)
    await ask(ws, chat_id, "are you there?")
    assert len([await ws.receive_json(timeout=5) for _ in range(2)]) == 2
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive_json(timeout=0.2)
    fake.release_stalls()
    rid = await ask(ws, chat_id, "now?")  # the connection serves the next request
    frames = await frames_until_final(ws)
    assert frames[0]["request_id"] == rid and text_of(frames[-1]) == "Echo: now?"


async def test_a_fault_aimed_at_one_chat_spares_the_others(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    spared, aimed = await new_chat(ws, ECHO.id), await new_chat(ws, ECHO.id)
    fake.inject("neo_error", command="create_and_generate_turn", chat_id=aimed, comment="only there")
    await ask(ws, spared, "first")  # another chat's request passes the fault by
    assert text_of((await frames_until_final(ws))[-1]) == "Echo: first"
    rid = await ask(ws, aimed, "second")
    error = await ws.receive_json(timeout=5)
    assert (error["command"], error["request_id"], error["comment"]) == ("neo_error", rid, "only there")
    assert fake.state()["faults"] == []


async def test_a_held_fault_acts_only_after_release(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    fake.inject("drop", after_snapshots=1, wait_for_release=True)
    await ask(ws, chat_id, "hold on")
    assert [(await ws.receive_json(timeout=5))["command"] for _ in range(2)] == ["add_turn", "add_turn"]
    other = await open_dm(http, fake)  # meanwhile the service answers on another connection
    await ask(other, await new_chat(other, ECHO.id), "elsewhere")
    assert text_of((await frames_until_final(other))[-1]) == "Echo: elsewhere"
    held = fake.dm_sockets()[0]
    assert (held["open"], held["in_flight"]) == (True, 1)  # the drop still waits, its generation in flight
    fake.release_stalls()
    closing = await ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1011


async def test_per_character_chunking_and_delay_fault(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, SLOW.id)
    fake.inject("delay", seconds=0.01)
    await ask(ws, chat_id, "abc", character_id=SLOW.id)
    character = (await frames_until_final(ws))[1:]
    assert [text_of(f) for f in character] == ["Echo: abc"[:n] for n in range(1, 10)]


async def test_message_length_limit_and_rate_limit(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    fake.configure(max_message_length=10, rate_limit_count=1, rate_limit_window=60)
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, ECHO.id)
    await ask(ws, chat_id, "x" * 11)
    too_long = await ws.receive_json(timeout=5)
    assert (too_long["command"], too_long["error_code"]) == ("neo_error", 400)
    await ask(ws, chat_id, "short")
    assert text_of((await frames_until_final(ws))[-1]) == "Echo: short"
    await ask(ws, chat_id, "again")
    limited = await ws.receive_json(timeout=5)
    assert (limited["command"], limited["error_code"]) == ("neo_error", 429)
    assert limited["retry_after_seconds"] > 0


async def test_rest_faults(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Token {fake.token}"}
    fake.inject("rest_error", status=403, body="<html>Just a moment...</html>", content_type="text/html",
                path_prefix="/chat/user")
    fake.inject("rest_error", status=429, body="Too Many Requests")
    blocked = await http.get(f"{fake.plus_url}/chat/user/", headers=headers)
    assert blocked.status == 403 and blocked.content_type == "text/html"
    assert (await http.get(f"{fake.neo_url}/ping/", headers=headers)).status == 429
    assert (await http.get(f"{fake.plus_url}/chat/user/", headers=headers)).status == 200


async def test_control_api_over_http(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    control = f"{fake.base_url}/_fake"
    added = await http.post(f"{control}/characters", json={"id": "char_new", "name": "Newcomer",
                                                            "greeting": "Fresh!", "style": "oracle"})
    assert added.status == 200
    assert (await http.post(f"{control}/script", json={"character_id": "char_new", "text": "Scripted."})).status == 200
    assert (await http.post(f"{control}/script", json={"character_id": "char_new"})).status == 400
    fault = {"kind": "neo_error", "command": "generate_turn_candidate", "comment": "later"}
    assert (await http.post(f"{control}/faults", json=fault)).status == 200
    assert (await http.patch(f"{control}/settings", json={"chunk_chars": 2})).status == 200

    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws, "char_new")
    await ask(ws, chat_id, "what do you see?", character_id="char_new")
    character = (await frames_until_final(ws))[1:]
    assert text_of(character[-1]) == "Scripted." and len(character) == 5  # 2 chars per snapshot

    state = await (await http.get(f"{control}/state")).json()
    assert [f["comment"] for f in state["faults"]] == ["later"]
    assert any(c["chat_id"] == chat_id and len(c["turns"]) == 2 for c in state["chats"])
    received = await (await http.get(f"{control}/received", params={"command": "create_and_generate_turn"})).json()
    assert [m["frame"]["payload"]["turn"]["candidates"][0]["raw_content"] for m in received["received"]] == [
        "what do you see?"]
    counters = await (await http.get(f"{control}/counters")).json()
    assert counters["dm_connections"] == 1 and counters["room_violations"] == 0
    assert (await http.delete(f"{control}/faults")).status == 200
    assert fake.world.faults.pending() == []
