"""Group rooms: REST management, the room websocket, and the one-connection-per-room rule."""

from __future__ import annotations

import asyncio

import pytest

from backends.characterai import CharacterAIBackend
from bot.models import ReplyFinal
from bot.roomqueue import InProcessRoomQueue
from bot.upstream.base import ErrorCode, UpstreamError
from fakes.characterai import FakeCharacterAI

from .conftest import ECHO, LIBRARIAN, PIRATE, ConfigFactory, assert_growing, collect


async def test_create_list_and_delete_rooms(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    room = await backend.create_room([ECHO, PIRATE], "The tavern")
    assert room.title == "The tavern"
    assert sorted(c.id for c in room.characters) == sorted([ECHO, PIRATE])
    assert fake.room(room.id).character_ids == [ECHO, PIRATE]

    listed = await backend.list_rooms()
    assert [r.id for r in listed] == [room.id]
    greetings = await backend.room_history(room.id)
    assert {t.author_name for t in greetings} == {"Echo", "Captain Redbeard"}

    await backend.delete_room(room.id)
    assert await backend.list_rooms() == []


async def test_send_and_generate_in_a_room(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    room = await backend.create_room([ECHO, PIRATE], "Deck", with_greeting=False)
    await backend.room_connect(room.id)
    assert backend.room_connected(room.id) and fake.room_subscribers(room.id) == 1

    human = await backend.room_send(room.id, "Hello my friend")
    snapshots, finals = await collect(backend.room_generate(room.id, PIRATE))

    stored = fake.chat(room.id).turns
    assert human.author.is_human and human.text == "Hello my friend" == stored[0].text()
    assert len(finals) == 1 and finals[0].text == stored[1].text() and finals[0].speaker == "Captain Redbeard"
    assert finals[0].turn_id == stored[1].turn_id
    assert_growing(snapshots, finals[0])

    await backend.room_disconnect(room.id)
    assert not backend.room_connected(room.id) and fake.room_subscribers(room.id) == 0
    assert fake.counters["room_connections"] == 1


async def test_three_concurrent_senders_through_the_room_queue_use_one_connection(
    backend: CharacterAIBackend, fake: FakeCharacterAI
) -> None:
    room = await backend.create_room([ECHO, LIBRARIAN], "Busy room", with_greeting=False)
    queue = InProcessRoomQueue()
    texts = ["alpha speaks", "bravo speaks", "charlie speaks"]

    async def exchange(text: str) -> ReplyFinal:
        async def job() -> ReplyFinal:
            await backend.room_send(room.id, text)
            _, finals = await collect(backend.room_generate(room.id, ECHO))
            return finals[0]

        return await queue.run(room.id, job)

    try:
        finals = await asyncio.gather(*(exchange(t) for t in texts))
    finally:
        await queue.close()

    assert [f.text for f in finals] == [f"Echo: {t}" for t in texts]  # each reply answers its own message
    stored = [t.text() for t in fake.chat(room.id).turns]
    assert stored == [x for t in texts for x in (t, f"Echo: {t}")]
    assert fake.room_violations == 0
    assert fake.counters["room_connections"] == 1 and fake.counters["room_subscriptions"] == 1


async def test_concurrent_connects_open_a_single_connection(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    room = await backend.create_room([ECHO], "Race", with_greeting=False)
    await asyncio.gather(*(backend.room_connect(room.id) for _ in range(5)))
    assert fake.counters["room_connections"] == 1 and fake.room_violations == 0


async def test_a_second_client_for_a_held_room_gets_an_error_not_a_hang(
    backend: CharacterAIBackend, make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    room = await backend.create_room([ECHO], "Held", with_greeting=False)
    await backend.room_connect(room.id)
    other = CharacterAIBackend(make_config())
    await other.start()
    try:
        with pytest.raises(UpstreamError) as caught:
            await other.room_connect(room.id)
    finally:
        await other.close()
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert "already has an active connection" in caught.value.detail
    assert fake.room_violations == 1  # the deliberate second client, refused by the fake
    assert backend.room_connected(room.id)
    await backend.room_send(room.id, "still mine")


async def test_an_evicted_connection_is_noticed_and_reopened(
    backend: CharacterAIBackend, make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    fake.configure(room_mode="evict")
    room = await backend.create_room([ECHO], "Evict", with_greeting=False)
    await backend.room_connect(room.id)
    other = CharacterAIBackend(make_config())
    await other.start()
    try:
        await other.room_connect(room.id)
        for _ in range(200):  # the unsubscribe push arrives asynchronously
            if not backend.room_connected(room.id):
                break
            await asyncio.sleep(0.01)
        assert not backend.room_connected(room.id)
    finally:
        await other.close()
    turn = await backend.room_send(room.id, "back again")
    assert turn.text == "back again" and backend.room_connected(room.id)


async def test_room_drop_mid_reply_errors_then_the_room_reconnects(
    backend: CharacterAIBackend, fake: FakeCharacterAI
) -> None:
    room = await backend.create_room([ECHO], "Shaky", with_greeting=False)
    await backend.room_send(room.id, "first words")
    fake.inject("drop", target="room", command="generate_turn", after_snapshots=2, after_drop="cut")
    with pytest.raises(UpstreamError) as caught:
        await collect(backend.room_generate(room.id, ECHO))
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert not backend.room_connected(room.id)

    await backend.room_send(room.id, "second words")
    _, finals = await collect(backend.room_generate(room.id, ECHO))
    assert finals[0].text == "Echo: second words"
    assert fake.counters["room_connections"] == 2 and fake.room_violations == 0
    assert len(fake.received("room", "generate_turn")) == 2  # the cut one was not re-sent


async def test_room_drop_mid_reply_is_recovered_from_history(
    backend: CharacterAIBackend, fake: FakeCharacterAI
) -> None:
    room = await backend.create_room([ECHO], "Recover", with_greeting=False)
    await backend.room_send(room.id, "finish me")
    fake.inject("drop", target="room", command="generate_turn", after_snapshots=2, continue_delay=0.01)
    _, finals = await collect(backend.room_generate(room.id, ECHO))  # the server finishes the turn unseen
    assert [f.text for f in finals] == ["Echo: finish me"]
    assert len(fake.received("room", "generate_turn")) == 1


async def test_room_errors_are_typed(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    room = await backend.create_room([ECHO], "Errors", with_greeting=False)
    await backend.room_send(room.id, "hello")
    fake.inject("rate_limit", target="room", command="generate_turn", retry_after_seconds=3.0)
    with pytest.raises(UpstreamError) as caught:
        await collect(backend.room_generate(room.id, ECHO))
    assert caught.value.code is ErrorCode.RATE_LIMITED and caught.value.retry_after == 3.0

    with pytest.raises(UpstreamError) as caught:
        await backend.room_connect("00000000-0000-4000-8000-000000000000")
    assert caught.value.code is ErrorCode.NOT_FOUND


async def test_room_stall_times_out_and_resets_the_connection(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    backend = CharacterAIBackend(make_config(first_token_timeout=0.3, idle_timeout=0.3))
    await backend.start()
    try:
        room = await backend.create_room([ECHO], "Stall", with_greeting=False)
        await backend.room_send(room.id, "wait for it")
        fake.inject("stall", target="room", command="generate_turn", after_snapshots=1)
        with pytest.raises(UpstreamError) as caught:
            await collect(backend.room_generate(room.id, ECHO))
        assert caught.value.code is ErrorCode.TIMEOUT
        assert not backend.room_connected(room.id)

        await backend.room_send(room.id, "next")
        _, finals = await collect(backend.room_generate(room.id, ECHO))
        assert finals[0].text == "Echo: next"
        assert fake.room_violations == 0
    finally:
        await backend.close()
