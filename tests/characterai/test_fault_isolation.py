"""Faults stay in the group room where they happen: five rooms talk at once, each on its own room connection, and
every fault the fake can inject is aimed at one room's message while the four other rooms' turns are in flight
(held by the service for the faulted turn's whole course; or, when it stalls for a whole timeout, streaming slowly
right through it).
That room's turn fails with a typed error (or recovers) and its next turn works on a fresh connection; the four
other rooms finish their turns exactly, each sent once."""

from __future__ import annotations

import asyncio

import pytest

from backends.characterai.account import Account
from backends.characterai.rooms import RoomManager
from bot.upstream.base import ErrorCode, UpstreamError
from fakes.characterai import FakeCharacterAI
from tests.fault_cases import CASES, UPSTREAM, FaultCase, hold_in_flight

from .conftest import ECHO, ConfigFactory, collect, until

ROOMS = 5
SLOW_GAP = 0.4  # seconds between two snapshots of a slow reply: 13 snapshots take 4.8 s, any idle gap 0.4 s
WAIT = 30.0  # generous (not a deadline under test)


async def talk(rooms: RoomManager, room_id: str, text: str) -> str | UpstreamError:
    """Post a message in the room and have the character answer it: the final text, or the error."""
    try:
        await rooms.send(room_id, text)
        _, finals = await collect(rooms.generate(room_id, ECHO))
    except UpstreamError as error:
        return error
    (final,) = finals
    return final.text


def posted(fake: FakeCharacterAI, text: str) -> int:
    """How many times Character.AI received ``text`` as a room message."""
    return sum(1 for m in fake.received("room", "create_turn") if text in str(m.frame))


def subscriptions(fake: FakeCharacterAI, room_id: str) -> int:
    """How many times a connection subscribed to the room (once, unless the room had to reconnect)."""
    return sum(1 for m in fake.received("room", "subscribe") if m.frame["subscribe"]["channel"] == f"room:{room_id}")


def generating(fake: FakeCharacterAI, room_id: str) -> int:
    """How many generations Character.AI was asked for in the room."""
    frames = [m.frame["rpc"]["data"] for m in fake.received("room", "generate_turn")]
    return sum(1 for frame in frames if frame["payload"]["chat_id"] == room_id)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_a_fault_in_one_room_fails_no_other_room(
    make_config: ConfigFactory, fake: FakeCharacterAI, case: FaultCase
) -> None:
    account = await Account.open(make_config(**UPSTREAM))
    backend = account.rooms
    try:
        rooms = [(await backend.create_room([ECHO], f"Room {n}", with_greeting=False)).id for n in range(ROOMS)]
        for room_id in rooms:
            await backend.connect(room_id)
        asks = [f"a question in room {n}" for n in range(ROOMS)]

        def the_others() -> asyncio.Future[list[str | UpstreamError]]:
            return asyncio.gather(*(talk(backend, room, text) for room, text in zip(rooms[1:], asks[1:], strict=True)))

        if case.outcome is ErrorCode.TIMEOUT:
            # the faulted turn stalls for a whole timeout; the four others stream slowly right through it (each
            # gap far shorter than their idle timeout, the whole reply longer than the stall)
            normal = fake.settings
            fake.configure(chunk_chars=2, snapshot_delay=SLOW_GAP)
            case.inject(fake, rooms[0], channel="room")
            faulted = asyncio.create_task(talk(backend, rooms[0], asks[0]))
            await until(lambda: generating(fake, rooms[0]) == 1, WAIT)
            others = the_others()
            outcome = await asyncio.wait_for(faulted, WAIT)
            in_flight = not others.done()
            answers = await asyncio.wait_for(others, WAIT)
            fake.configure(**normal.model_dump())
        else:  # the four other turns are in flight (held by the service) for the faulted turn's whole course
            for room_id in rooms[1:]:
                hold_in_flight(fake, room_id)
            others = the_others()
            await until(lambda: all(generating(fake, room_id) == 1 for room_id in rooms[1:]), WAIT)
            case.inject(fake, rooms[0], channel="room", held=False)
            outcome = await asyncio.wait_for(talk(backend, rooms[0], asks[0]), WAIT)
            in_flight = not others.done()
            fake.release_stalls()
            answers = await asyncio.wait_for(others, WAIT)
        connected = [backend.is_connected(room_id) and fake.room_subscribers(room_id) == 1 for room_id in rooms]
        after = await talk(backend, rooms[0], "and the next turn?")  # the faulted room goes on
    finally:
        await account.close()

    collateral = [n for n, got in enumerate(answers, 1) if got != f"Echo: {asks[n]}"]
    assert collateral == [], answers
    assert in_flight  # the turns overlapped
    assert connected[1:] == [True] * (ROOMS - 1)  # the other rooms kept their connections all along
    expected = case.expected_reply(f"Echo: {asks[0]}")
    if case.outcome is None:
        assert outcome == expected
    else:
        assert isinstance(outcome, UpstreamError) and outcome.code is case.outcome, outcome
    assert after == "Echo: and the next turn?"
    for n, room_id in enumerate(rooms[1:], 1):
        assert [t.text() for t in fake.chat(room_id).turns] == [asks[n], f"Echo: {asks[n]}"]
        assert posted(fake, asks[n]) == generating(fake, room_id) == 1  # each sent once, never again
        assert subscriptions(fake, room_id) == 1  # ... on the room's one connection
    assert fake.room_violations == 0
