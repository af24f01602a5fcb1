"""Group rooms: REST management, the room websocket, and the one-connection-per-room rule (the account's
``RoomManager``), and the backend's rooms through the interface (``GroupRooms``)."""

from __future__ import annotations

import asyncio

import pytest

from backends.characterai import CharacterAIBackend
from backends.characterai.account import Account
from backends.characterai.room_socket import RoomConnection
from bot.models import ReplyFinal
from bot.roomqueue import InProcessRoomQueue
from bot.upstream.base import ErrorCode, UpstreamError, group_rooms
from fakes.characterai import FakeCharacterAI

from .conftest import ECHO, LIBRARIAN, PIRATE, ConfigFactory, assert_growing, collect, until


async def test_create_list_and_delete_rooms(account: Account, fake: FakeCharacterAI) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO, PIRATE], "The tavern")
    assert room.title == "The tavern"
    assert sorted(c.id for c in room.characters) == sorted([ECHO, PIRATE])
    assert fake.room(room.id).character_ids == [ECHO, PIRATE]

    listed = await rooms.list_rooms()
    assert [r.id for r in listed] == [room.id]
    greetings = await account.history.history(room.id)
    assert {t.author_name for t in greetings} == {"Echo", "Captain Redbeard"}

    await rooms.delete_room(room.id)
    assert await rooms.list_rooms() == []


async def test_send_and_generate_in_a_room(account: Account, fake: FakeCharacterAI) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO, PIRATE], "Deck", with_greeting=False)
    await rooms.connect(room.id)
    assert rooms.is_connected(room.id) and fake.room_subscribers(room.id) == 1

    human = await rooms.send(room.id, "Hello my friend")
    snapshots, finals = await collect(rooms.generate(room.id, PIRATE))

    stored = fake.chat(room.id).turns
    assert human.author.is_human and human.text == "Hello my friend" == stored[0].text()
    assert len(finals) == 1 and finals[0].text == stored[1].text() and finals[0].speaker == "Captain Redbeard"
    assert finals[0].turn_id == stored[1].turn_id
    assert_growing(snapshots, finals[0])

    await rooms.disconnect(room.id)
    assert not rooms.is_connected(room.id) and fake.room_subscribers(room.id) == 0
    assert fake.counters["room_connections"] == 1


async def test_three_concurrent_senders_through_the_room_queue_use_one_connection(
    account: Account, fake: FakeCharacterAI
) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO, LIBRARIAN], "Busy room", with_greeting=False)
    queue = InProcessRoomQueue()
    texts = ["alpha speaks", "bravo speaks", "charlie speaks"]

    async def exchange(text: str) -> ReplyFinal:
        async def job() -> ReplyFinal:
            await rooms.send(room.id, text)
            _, finals = await collect(rooms.generate(room.id, ECHO))
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


async def test_concurrent_connects_open_a_single_connection(account: Account, fake: FakeCharacterAI) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO], "Race", with_greeting=False)
    await asyncio.gather(*(rooms.connect(room.id) for _ in range(5)))
    assert fake.counters["room_connections"] == 1 and fake.room_violations == 0


async def test_a_second_client_for_a_held_room_gets_an_error_not_a_hang(
    account: Account, make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO], "Held", with_greeting=False)
    await rooms.connect(room.id)
    other = await Account.open(make_config())
    try:
        with pytest.raises(UpstreamError) as caught:
            await other.rooms.connect(room.id)
    finally:
        await other.close()
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert "already has an active connection" in caught.value.detail
    assert fake.room_violations == 1  # the deliberate second client, refused by the fake
    assert rooms.is_connected(room.id)
    await rooms.send(room.id, "still mine")


async def test_an_evicted_connection_is_noticed_and_reopened(
    account: Account, make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    rooms = account.rooms
    fake.configure(room_mode="evict")
    room = await rooms.create_room([ECHO], "Evict", with_greeting=False)
    await rooms.connect(room.id)
    other = await Account.open(make_config())
    try:
        await other.rooms.connect(room.id)
        await until(lambda: not rooms.is_connected(room.id))  # the unsubscribe push arrives asynchronously
    finally:
        await other.close()
    turn = await rooms.send(room.id, "back again")
    assert turn.text == "back again" and rooms.is_connected(room.id)


async def test_room_drop_mid_reply_errors_then_the_room_reconnects(account: Account, fake: FakeCharacterAI) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO], "Shaky", with_greeting=False)
    await rooms.send(room.id, "first words")
    fake.inject("drop", target="room", command="generate_turn", after_snapshots=2, after_drop="cut")
    with pytest.raises(UpstreamError) as caught:
        await collect(rooms.generate(room.id, ECHO))
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert not rooms.is_connected(room.id)

    await rooms.send(room.id, "second words")
    _, finals = await collect(rooms.generate(room.id, ECHO))
    assert finals[0].text == "Echo: second words"
    assert fake.counters["room_connections"] == 2 and fake.room_violations == 0
    assert len(fake.received("room", "generate_turn")) == 2  # the cut one was not re-sent


async def test_room_drop_mid_reply_is_recovered_from_history(account: Account, fake: FakeCharacterAI) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO], "Recover", with_greeting=False)
    await rooms.send(room.id, "finish me")
    fake.inject("drop", target="room", command="generate_turn", after_snapshots=2, continue_delay=0.01)
    _, finals = await collect(rooms.generate(room.id, ECHO))  # the server finishes the turn unseen
    assert [f.text for f in finals] == ["Echo: finish me"]
    assert len(fake.received("room", "generate_turn")) == 1


async def test_room_errors_are_typed(account: Account, fake: FakeCharacterAI) -> None:
    rooms = account.rooms
    room = await rooms.create_room([ECHO], "Errors", with_greeting=False)
    await rooms.send(room.id, "hello")
    fake.inject("rate_limit", target="room", command="generate_turn", retry_after_seconds=3.0)
    with pytest.raises(UpstreamError) as caught:
        await collect(rooms.generate(room.id, ECHO))
    assert caught.value.code is ErrorCode.RATE_LIMITED and caught.value.retry_after == 3.0

    with pytest.raises(UpstreamError) as caught:
        await rooms.connect("00000000-0000-4000-8000-000000000000")
    assert caught.value.code is ErrorCode.NOT_FOUND


async def test_room_stall_times_out_and_resets_the_connection(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    account = await Account.open(make_config(first_token_timeout=2.0, idle_timeout=2.0))
    rooms = account.rooms
    try:
        room = await rooms.create_room([ECHO], "Stall", with_greeting=False)
        await rooms.send(room.id, "wait for it")
        fake.inject("stall", target="room", command="generate_turn", after_snapshots=1)
        with pytest.raises(UpstreamError) as caught:
            await collect(rooms.generate(room.id, ECHO))
        assert caught.value.code is ErrorCode.TIMEOUT
        assert not rooms.is_connected(room.id)

        await rooms.send(room.id, "next")
        _, finals = await collect(rooms.generate(room.id, ECHO))
        assert finals[0].text == "Echo: next"
        assert fake.room_violations == 0
    finally:
        await account.close()


async def test_the_backend_offers_its_rooms_through_the_interface(
    backend: CharacterAIBackend, fake: FakeCharacterAI
) -> None:
    rooms = group_rooms(backend)  # it declares group_rooms
    assert rooms is not None
    room = await rooms.create_room([ECHO, PIRATE], "Interface", with_greeting=False)
    assert fake.room(room.room_id).character_ids == [ECHO, PIRATE]

    await rooms.room_send(room.room_id, "Hello both")
    snapshots, asked = await collect(rooms.room_generate(room.room_id, PIRATE))
    _, chosen = await collect(rooms.room_generate(room.room_id, None))  # the room picks who speaks

    stored = fake.chat(room.room_id).turns
    assert [t.text() for t in stored] == ["Hello both", asked[0].text, chosen[0].text]
    assert asked[0].speaker == "Captain Redbeard" and chosen[0].speaker in {"Echo", "Captain Redbeard"}
    assert_growing(snapshots, asked[0])
    assert fake.counters["room_connections"] == 1 and fake.room_violations == 0


async def test_a_command_the_room_refuses_ends_its_request_with_a_typed_error(
    account: Account, fake: FakeCharacterAI
) -> None:
    joined = await account.rooms.create_room([ECHO], "Joined", with_greeting=False)
    elsewhere = await account.rooms.create_room([ECHO], "Elsewhere", with_greeting=False)
    connection = await RoomConnection.open(account.config, joined.id)
    try:  # a command for a room this connection has not joined: the server answers the RPC with an error
        payload = {"chat_type": "TYPE_MU_ROOM", "chat_id": elsewhere.id, "character_id": ECHO}
        request = await connection.rpc(
            {"command": "generate_turn", "request_id": "refused-1", "origin_id": "web-next", "payload": payload}
        )
        with pytest.raises(UpstreamError) as caught:
            await request.next_frame(5.0, "generating in a room not joined")
        request.close()
    finally:
        await connection.close()
    assert caught.value.code is ErrorCode.AUTH and "permission denied" in caught.value.detail
    assert fake.chat(elsewhere.id).turns == []
