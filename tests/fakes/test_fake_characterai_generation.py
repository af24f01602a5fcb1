"""Server-side generation in the fake Character.AI: a turn goes on growing after its socket drops (history
shows it growing, then final), the "cut" option keeps the old behaviour, and generations are counted per DM
connection (a second one in flight on one socket is flagged or refused). Raw aiohttp clients, real sockets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fakes.characterai import FakeCharacter, FakeCharacterAI

ECHO = FakeCharacter(id="char_echo", name="Echo", greeting="Say something.", style="echo")
REPLY = "One two three four five six seven eight nine ten."  # 50 characters: 13 snapshots of 4


@pytest.fixture
async def fake() -> AsyncIterator[FakeCharacterAI]:
    server = FakeCharacterAI(characters=[ECHO], seed=5, chunk_chars=4)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def open_dm(http: aiohttp.ClientSession, fake: FakeCharacterAI) -> Any:
    return await http.ws_connect(fake.ws_url, headers={"Cookie": f'HTTP_AUTHORIZATION="Token {fake.token}"'})


async def new_chat(ws: Any) -> str:
    chat_id = str(uuid.uuid4())
    await ws.send_json({"command": "create_chat", "request_id": "create", "payload": {
        "chat": {"chat_id": chat_id, "character_id": ECHO.id}, "with_greeting": False}})
    assert (await ws.receive_json(timeout=5))["command"] == "create_chat_response"
    return chat_id


async def ask(ws: Any, chat_id: str, text: str) -> str:
    request_id = str(uuid.uuid4())
    await ws.send_json({"command": "create_and_generate_turn", "request_id": request_id, "payload": {
        "character_id": ECHO.id,
        "turn": {"turn_key": {"chat_id": chat_id}, "author": {}, "candidates": [{"raw_content": text}]}}})
    return request_id


async def regenerate(ws: Any, chat_id: str, turn_id: str) -> None:
    await ws.send_json({"command": "generate_turn_candidate", "request_id": str(uuid.uuid4()), "payload": {
        "character_id": ECHO.id, "turn_key": {"chat_id": chat_id, "turn_id": turn_id}}})


async def until_final(ws: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = await ws.receive_json(timeout=5)
        frames.append(frame)
        turn = frame.get("turn")
        if turn is None or (not turn["author"].get("is_human") and turn["candidates"][0].get("is_final")):
            return frames


async def until_closed(ws: Any) -> list[dict[str, Any]]:
    """The frames that arrive before the server closes the socket."""
    frames: list[dict[str, Any]] = []
    while True:
        message = await ws.receive(timeout=5)
        if message.type != aiohttp.WSMsgType.TEXT:
            return frames
        frames.append(message.json())


async def character_turn(http: aiohttp.ClientSession, fake: FakeCharacterAI, chat_id: str) -> dict[str, Any]:
    """The newest turn of the chat as ``GET /turns/{chat_id}/`` shows it (it must be the character's)."""
    response = await http.get(f"{fake.neo_url}/turns/{chat_id}/", headers={"Authorization": f"Token {fake.token}"})
    assert response.status == 200
    turn: dict[str, Any] = (await response.json())["turns"][0]
    assert not turn["author"].get("is_human")
    return turn


async def history_until_final(
    http: aiohttp.ClientSession, fake: FakeCharacterAI, chat_id: str
) -> list[tuple[str, bool]]:
    """Every (text, is_final) the history shows for the newest turn, polled until it is final."""
    seen: list[tuple[str, bool]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not seen or not seen[-1][1]:
        assert loop.time() < deadline, f"the turn never became final: {seen}"
        candidate = (await character_turn(http, fake, chat_id))["candidates"][0]
        state = (candidate["raw_content"], candidate["is_final"])
        if not seen or seen[-1] != state:
            seen.append(state)
        await asyncio.sleep(0.01)
    return seen


def text_of(frame: dict[str, Any]) -> str:
    return str(frame["turn"]["candidates"][0]["raw_content"])


# ----- a dropped socket does not stop the generation -----


async def test_after_a_drop_the_turn_grows_on_the_server_then_becomes_final(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    fake.script_reply(ECHO.id, REPLY)
    fake.inject("drop", after_snapshots=3, hold=True)
    await ask(ws, chat_id, "count to ten")
    frames = await until_closed(ws)
    streamed = text_of(frames[-1])
    assert [f["command"] for f in frames] == ["add_turn", "add_turn", "update_turn", "update_turn"]
    assert streamed == REPLY[:12]

    held = (await character_turn(http, fake, chat_id))["candidates"][0]
    assert (held["raw_content"], held["is_final"]) == (streamed, False)  # still being generated
    assert "is_final" in held  # REST candidates always carry the key (kramcat requires it)

    fake.release_stalls()
    seen = await history_until_final(http, fake, chat_id)
    assert seen[-1] == (REPLY, True)
    assert all(REPLY.startswith(text) and len(text) >= len(streamed) for text, _ in seen)
    assert [final for _, final in seen].count(True) == 1

    again = await open_dm(http, fake)  # a reconnecting client finds the whole turn, final
    await ask(again, chat_id, "and now?")
    assert text_of((await until_final(again))[-1]) == "Echo: and now?"
    turns = (await (await http.get(f"{fake.neo_url}/turns/{chat_id}/",
                                   headers={"Authorization": f"Token {fake.token}"})).json())["turns"]
    assert [t["candidates"][0]["raw_content"] for t in turns][2:] == [REPLY, "count to ten"]


async def test_history_may_call_every_candidate_final(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    fake.configure(history_is_final="always")
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    fake.script_reply(ECHO.id, REPLY)
    fake.inject("drop", after_snapshots=3, hold=True)
    await ask(ws, chat_id, "count to ten")
    streamed = text_of((await until_closed(ws))[-1])
    held = (await character_turn(http, fake, chat_id))["candidates"][0]
    assert (held["raw_content"], held["is_final"]) == (streamed, True)  # still growing, yet "final"
    fake.release_stalls()
    fake.configure(history_is_final="actual")
    assert (await history_until_final(http, fake, chat_id))[-1] == (REPLY, True)


async def test_unseen_snapshots_keep_their_pace(fake: FakeCharacterAI, http: aiohttp.ClientSession) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    fake.script_reply(ECHO.id, REPLY)
    fake.inject("drop", after_snapshots=2, close_code=None, continue_delay=0.02)  # TCP aborted, no close frame
    await ask(ws, chat_id, "count to ten")
    await until_closed(ws)
    seen = await history_until_final(http, fake, chat_id)
    assert seen[-1] == (REPLY, True)
    assert all(REPLY.startswith(text) for text, _ in seen)
    assert [text for text, _ in seen] == sorted((text for text, _ in seen), key=len)


async def test_cut_option_stores_the_streamed_text_as_final(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    fake.script_reply(ECHO.id, REPLY)
    fake.inject("drop", after_snapshots=3, after_drop="cut")
    await ask(ws, chat_id, "count to ten")
    streamed = text_of((await until_closed(ws))[-1])
    candidate = (await character_turn(http, fake, chat_id))["candidates"][0]
    assert (candidate["raw_content"], candidate["is_final"]) == (streamed, True)
    assert streamed != REPLY


async def test_a_client_closing_mid_stream_does_not_stop_the_generation(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    fake.configure(snapshot_delay=0.01)
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    fake.script_reply(ECHO.id, REPLY)
    await ask(ws, chat_id, "count to ten")
    assert (await ws.receive_json(timeout=5))["turn"]["author"]["is_human"] is True
    first = await ws.receive_json(timeout=5)
    assert "is_final" not in first["turn"]["candidates"][0]
    await ws.close()
    assert (await history_until_final(http, fake, chat_id))[-1] == (REPLY, True)


async def test_a_regeneration_cut_by_a_drop_finishes_its_new_candidate(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    await ask(ws, chat_id, "hello")
    turn_id = (await until_final(ws))[-1]["turn"]["turn_key"]["turn_id"]
    fake.script_reply(ECHO.id, REPLY)
    fake.inject("drop", command="generate_turn_candidate", after_snapshots=1, hold=True)
    await regenerate(ws, chat_id, turn_id)
    await until_closed(ws)
    held = await character_turn(http, fake, chat_id)
    assert held["primary_candidate_id"] == held["candidates"][0]["candidate_id"]
    assert held["candidates"][0]["is_final"] is False and held["candidates"][1]["is_final"] is True
    fake.release_stalls()
    assert (await history_until_final(http, fake, chat_id))[-1] == (REPLY, True)


# ----- one generation per connection -----


async def counters(http: aiohttp.ClientSession, fake: FakeCharacterAI) -> dict[str, int]:
    response = await http.get(f"{fake.base_url}/_fake/counters")
    body: dict[str, int] = await response.json()
    return body


async def dm_sockets(http: aiohttp.ClientSession, fake: FakeCharacterAI) -> list[dict[str, Any]]:
    response = await http.get(f"{fake.base_url}/_fake/dm_sockets")
    sockets: list[dict[str, Any]] = (await response.json())["dm_sockets"]
    return sockets


async def test_one_generation_at_a_time_is_counted_as_such(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    for text in ("one", "two", "three"):
        await ask(ws, chat_id, text)
        assert text_of((await until_final(ws))[-1]) == f"Echo: {text}"
    assert {k: v for k, v in (await counters(http, fake)).items() if k.startswith("dm_generation")} == {
        "dm_generations": 3, "dm_generation_overlaps": 0, "dm_generations_peak": 1}
    assert await dm_sockets(http, fake) == [
        {"socket": 1, "user_id": fake.user.user_id, "open": True, "in_flight": 0, "generations": 3, "peak": 1}]


async def test_a_second_generation_in_flight_is_flagged_and_queued(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    fake.inject("stall", after_snapshots=1)  # the first generation stays in flight until released
    first = await ask(ws, chat_id, "first")
    assert [(await ws.receive_json(timeout=5))["request_id"] for _ in range(2)] == [first, first]
    second = await ask(ws, chat_id, "second")  # without waiting for the first reply
    await fake_counts(http, fake, overlaps=1)
    fake.release_stalls()
    frames = await until_final(ws)
    assert {f["request_id"] for f in frames} == {second}  # served after the first, never interleaved
    assert text_of(frames[-1]) == "Echo: second"
    seen = await counters(http, fake)
    assert (seen["dm_generation_overlaps"], seen["dm_generations_peak"]) == (1, 2)
    assert (await dm_sockets(http, fake))[0]["peak"] == 2


async def test_strict_mode_refuses_a_second_generation_in_flight(
    fake: FakeCharacterAI, http: aiohttp.ClientSession
) -> None:
    assert (await http.patch(f"{fake.base_url}/_fake/settings", json={"generation_overlap": "reject"})).status == 200
    ws = await open_dm(http, fake)
    chat_id = await new_chat(ws)
    fake.inject("stall", after_snapshots=1)
    first = await ask(ws, chat_id, "first")
    assert [(await ws.receive_json(timeout=5))["request_id"] for _ in range(2)] == [first, first]
    second = await ask(ws, chat_id, "second")
    refusal = await ws.receive_json(timeout=5)
    assert (refusal["command"], refusal["request_id"], refusal["error_code"]) == ("neo_error", second, 409)
    other = await open_dm(http, fake)  # another connection may generate meanwhile
    await ask(other, chat_id, "third")
    assert text_of((await until_final(other))[-1]) == "Echo: third"
    fake.release_stalls()
    await ask(ws, chat_id, "fourth")  # once the first is over, the socket takes a new generation
    assert text_of((await until_final(ws))[-1]) == "Echo: fourth"
    seen = await counters(http, fake)
    assert (seen["dm_generation_overlaps"], seen["dm_generations_peak"]) == (1, 2)
    assert [(s["generations"], s["peak"]) for s in await dm_sockets(http, fake)] == [(3, 2), (1, 1)]


async def fake_counts(http: aiohttp.ClientSession, fake: FakeCharacterAI, overlaps: int) -> None:
    """Wait until the fake has counted ``overlaps`` overlapping generations."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (await counters(http, fake))["dm_generation_overlaps"] < overlaps:
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
