"""One-on-one chat operations of our Character.AI client against the fake, over real sockets."""

from __future__ import annotations

import pytest

from backends.characterai import CharacterAIBackend
from bot.upstream.base import ErrorCode, UpstreamError
from fakes.characterai import FakeCharacterAI

from .conftest import ECHO, PIRATE, assert_growing, collect


async def test_send_streams_growing_snapshots_and_final_equals_the_fakes_reply(
    backend: CharacterAIBackend, fake: FakeCharacterAI
) -> None:
    chat = await backend.create_chat(PIRATE)
    snapshots, finals = await collect(backend.send(chat.chat_id, PIRATE, "Hello my friend, is the ship ready?"))

    stored = fake.chat(chat.chat_id).turns
    assert len(finals) == 1
    final = finals[0]
    assert len(snapshots) >= 2
    assert_growing(snapshots, final)
    assert final.text == stored[-1].text()
    assert final.turn_id == stored[-1].turn_id
    assert final.speaker == "Captain Redbeard"
    assert stored[-2].is_human and stored[-2].text() == "Hello my friend, is the ship ready?"


async def test_scripted_reply_arrives_exactly(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    chat = await backend.create_chat(ECHO)
    fake.script_reply(ECHO, "A scripted answer, streamed in small pieces.")
    snapshots, finals = await collect(backend.send(chat.chat_id, ECHO, "anything"))
    assert finals[0].text == "A scripted answer, streamed in small pieces."
    assert_growing(snapshots, finals[0])


async def test_create_chat_returns_the_greeting(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    chat = await backend.create_chat(PIRATE)
    stored = fake.chat(chat.chat_id)
    assert chat.greeting is not None and chat.greeting.startswith("Ahoy, matey!")
    assert [t.text() for t in stored.turns] == [chat.greeting]
    assert stored.creator_id == backend.profile.user_id

    silent = await backend.create_chat(PIRATE, with_greeting=False)
    assert silent.greeting is None and fake.chat(silent.chat_id).turns == []


async def test_create_chat_with_an_unknown_character_is_not_found(backend: CharacterAIBackend) -> None:
    with pytest.raises(UpstreamError) as caught:
        await backend.create_chat("no_such_character")
    assert caught.value.code is ErrorCode.NOT_FOUND


async def test_regenerate_streams_a_new_candidate_of_the_last_reply(
    backend: CharacterAIBackend, fake: FakeCharacterAI
) -> None:
    chat = await backend.create_chat(ECHO)
    _, first = await collect(backend.send(chat.chat_id, ECHO, "say it again"))
    snapshots, finals = await collect(backend.regenerate(chat.chat_id, ECHO))

    turn = fake.chat(chat.chat_id).turns[-1]
    assert finals[0].turn_id == first[0].turn_id == turn.turn_id
    assert finals[0].text == turn.text() != first[0].text
    assert len(turn.candidates) == 2
    assert_growing(snapshots, finals[0])


async def test_regenerate_needs_a_character_turn_last(backend: CharacterAIBackend) -> None:
    chat = await backend.create_chat(ECHO, with_greeting=False)
    with pytest.raises(UpstreamError) as caught:
        await collect(backend.regenerate(chat.chat_id, ECHO))
    assert caught.value.code is ErrorCode.INVALID


async def test_edit_a_turn(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    chat = await backend.create_chat(ECHO)
    _, finals = await collect(backend.send(chat.chat_id, ECHO, "original"))
    assert finals[0].turn_id is not None

    edited = await backend.edit_turn(chat.chat_id, finals[0].turn_id, "an edited reply")

    assert edited.turn_id == finals[0].turn_id and edited.text == "an edited reply"
    assert fake.chat(chat.chat_id).turns[-1].text() == "an edited reply"
    history = await backend.history(chat.chat_id)
    assert history[-1].text == "an edited reply"


async def test_remove_turns(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    chat = await backend.create_chat(ECHO)
    await collect(backend.send(chat.chat_id, ECHO, "keep me"))
    await collect(backend.send(chat.chat_id, ECHO, "drop me"))
    last_two = [t.turn_id for t in fake.chat(chat.chat_id).turns[-2:]]

    await backend.remove_turns(chat.chat_id, last_two)

    remaining = [t.text() for t in fake.chat(chat.chat_id).turns]
    assert remaining == [chat.greeting, "keep me", "Echo: keep me"]
    assert [t.text for t in await backend.history(chat.chat_id)] == remaining


async def test_history_follows_next_token_across_pages(backend: CharacterAIBackend, fake: FakeCharacterAI) -> None:
    fake.configure(page_size=3)
    chat = await backend.create_chat(ECHO)
    for word in ("one", "two", "three"):
        await collect(backend.send(chat.chat_id, ECHO, word))
    stored = fake.chat(chat.chat_id).turns  # oldest first, 7 turns

    everything = await backend.history(chat.chat_id)
    assert [t.turn_id for t in everything] == [t.turn_id for t in stored]
    assert [t.is_human for t in everything] == [t.is_human for t in stored]
    assert everything[0].author_name == "Echo" and everything[0].created_at is not None

    recent = await backend.history(chat.chat_id, limit=4)
    assert [t.text for t in recent] == [t.text() for t in stored[-4:]]

    page = await backend.history_page(chat.chat_id)
    pages = [page]
    while page.next_token is not None:
        page = await backend.history_page(chat.chat_id, page.next_token)
        pages.append(page)
    assert len(pages) == 3
    assert [t.turn_id for p in pages for t in p.turns] == [t.turn_id for t in reversed(stored)]


async def test_recent_chat_with_a_character(backend: CharacterAIBackend) -> None:
    assert await backend.recent_chat(PIRATE) is None
    await backend.create_chat(PIRATE)
    newer = await backend.create_chat(PIRATE)
    await collect(backend.send(newer.chat_id, PIRATE, "latest"))

    recent = await backend.recent_chat(PIRATE)
    assert recent is not None and recent.chat_id == newer.chat_id and recent.character_id == PIRATE


async def test_character_info(backend: CharacterAIBackend) -> None:
    info = await backend.character_info(PIRATE)
    assert info.id == PIRATE and info.name == "Captain Redbeard"
    assert info.avatar_url == "http://avatars.test/demo/redbeard.webp"
    assert info.greeting is not None and info.greeting.startswith("Ahoy, matey!")

    with pytest.raises(UpstreamError) as caught:
        await backend.character_info("no_such_character")
    assert caught.value.code is ErrorCode.NOT_FOUND
