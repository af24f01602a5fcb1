"""The Character.AI backend declares everything it can do, and does each of it against the fake."""

from __future__ import annotations

from backends.characterai import CharacterAIBackend
from backends.characterai.account import Account
from bot.upstream.base import Capabilities, group_rooms
from fakes.characterai import FakeCharacterAI

from .conftest import ECHO, PIRATE, assert_growing, collect


async def test_the_backend_declares_all_it_can_do_and_does_it(
    backend: CharacterAIBackend, account: Account, fake: FakeCharacterAI
) -> None:
    assert backend.capabilities == Capabilities(
        streams=True, regenerate=True, edit_turns=True, group_rooms=True, greetings=True, history="upstream"
    )

    chat = await backend.create_chat(PIRATE)  # greetings: a new chat opens with it
    info = await backend.character_info(PIRATE)
    assert chat.greeting is not None and chat.greeting == info.greeting

    snapshots, finals = await collect(backend.send(chat.chat_id, PIRATE, "Tell me about the sea"))  # streams
    assert len(snapshots) >= 2
    assert_growing(snapshots, finals[0])

    _, again = await collect(backend.regenerate(chat.chat_id, PIRATE))  # regenerate
    assert again[0].turn_id == finals[0].turn_id and again[0].text != finals[0].text

    history = await backend.history(chat.chat_id)  # history kept upstream
    assert [t.text for t in history] == [chat.greeting, "Tell me about the sea", again[0].text]

    rooms = group_rooms(backend)  # group rooms (their operations: test_rooms)
    assert rooms is not None and (await rooms.create_room([ECHO, PIRATE], "Declared")).room_id

    assert again[0].turn_id is not None  # edit_turns: the account's chats edit (the interface comes with issue 21)
    edited = await account.chats.edit_turn(chat.chat_id, again[0].turn_id, "Edited by hand")
    assert edited.text == "Edited by hand" == fake.chat(chat.chat_id).turns[-1].text()
