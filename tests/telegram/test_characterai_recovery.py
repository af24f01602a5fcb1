"""Telegram end to end on the fake Character.AI's failure modes: a reply whose socket dropped is followed until
the service has finished it and sent once, whole; a model failure says "could not answer"; five private chats
at once never put two generations on one socket and none of them times out."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

from bot.upstream.base import USER_MESSAGES, ErrorCode
from fakes.characterai import FakeCharacterAI
from fakes.telegram.world import StoredMessage
from tests.telegram.conftest import CHARACTERS, TelegramWorld, close_world, open_world

ADA = CHARACTERS[0]
FIRST_TOKEN = 3.0  # the bridge's first-token timeout in the burst test; each generation waits 60% of it


async def until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def upstream_chat(cai: FakeCharacterAI) -> str:
    """The Character.AI chat of the one message sent so far."""
    (sent,) = cai.received("dm", "create_and_generate_turn")
    return str(sent.frame["payload"]["turn"]["turn_key"]["chat_id"])


def history_reads(cai: FakeCharacterAI, chat_id: str) -> int:
    return len(cai.received("rest", f"GET /turns/{chat_id}/"))


def grew_to(message: StoredMessage, final: str) -> bool:
    texts = [version.text for version in message.versions]
    return texts[-1] == final and all(final.startswith(t) for t in texts) and all(
        len(a) < len(b) for a, b in itertools.pairwise(texts))  # fmt: skip


async def test_a_reply_cut_by_a_drop_arrives_whole_and_once(world: TelegramWorld) -> None:
    tg, cai = world.telegram, world.cai
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    full = "Let me tell you about the archive." + " Every shelf has a story, every story has a shelf." * 5
    cai.script_reply("ada", full)
    cai.inject("drop", target="dm", command="create_and_generate_turn", after_snapshots=4, hold=True)
    tg.user_sends(chat, ann, "tell me about the archive")

    # the socket dropped and the server holds the rest: the bridge keeps reading the history, and nothing it
    # shows meanwhile is the whole reply
    await until(lambda: len(cai.received("dm", "create_and_generate_turn")) == 1)
    chat_id = upstream_chat(cai)
    await until(lambda: history_reads(cai, chat_id) >= 3)
    assert all(m.text != full for m in tg.bot_messages(chat))
    cai.release_stalls()

    reply = await tg.wait_for_bot_message(chat, full, timeout=15)
    await tg.wait_idle(chat, quiet=0.3, timeout=10)
    assert [m.message_id for m in tg.bot_messages(chat)] == [reply.message_id]
    assert grew_to(reply, full), [v.text for v in reply.versions]
    assert len(cai.received("dm", "create_and_generate_turn")) == 1  # the message was never sent again
    assert [t.text() for t in cai.chat(chat_id).turns][-2:] == ["tell me about the archive", full]


async def test_a_model_failure_says_the_character_could_not_answer(world: TelegramWorld) -> None:
    tg, cai = world.telegram, world.cai
    bob = tg.add_user("Bob")
    chat = tg.private_chat(bob)
    cai.inject("neo_error", target="dm", command="create_and_generate_turn", error_code=500, comment="model error")
    tg.user_sends(chat, bob, "hello?")
    failed = await tg.wait_for(lambda: next((m for m in tg.bot_messages(chat) if m.text), None), timeout=15)
    await tg.wait_idle(chat, quiet=0.3, timeout=10)
    assert USER_MESSAGES[ErrorCode.MODEL] in failed.text
    assert USER_MESSAGES[ErrorCode.UNAVAILABLE] not in failed.text

    tg.user_sends(chat, bob, "and now?")  # the socket was fine all along
    await tg.wait_for_bot_message(chat, ADA.reply_to("and now?"), timeout=15)
    assert cai.counters["dm_connections"] == 1


async def test_five_private_chats_at_once_get_five_whole_replies(tmp_path: Path) -> None:
    world = await open_world(tmp_path, characterai={"first_token_timeout": FIRST_TOKEN})
    try:
        tg, cai = world.telegram, world.cai
        cai.configure(generation_overlap="reject")  # a second generation on one socket would be refused
        cai.inject("delay", target="dm", command="create_and_generate_turn", seconds=0.6 * FIRST_TOKEN, times=5)
        people = [tg.add_user(f"Reader{n}") for n in range(5)]
        chats = [tg.private_chat(person) for person in people]
        asks = [f"which book first, Reader{n}?" for n in range(5)]
        for chat, person, text in zip(chats, people, asks, strict=True):
            tg.user_sends(chat, person, text)

        for chat, text in zip(chats, asks, strict=True):
            reply = await tg.wait_for_bot_message(chat, ADA.reply_to(text), timeout=30)
            await tg.wait_idle(chat, quiet=0.3, timeout=10)
            assert [m.message_id for m in tg.bot_messages(chat)] == [reply.message_id]
        counters = cai.counters
        assert counters["dm_generations"] == 5
        assert (counters["dm_generation_overlaps"], counters["dm_generations_peak"]) == (0, 1), cai.dm_sockets()
        assert 1 < len(cai.dm_sockets()) <= 3  # the pool grew for the burst, within its default size
    finally:
        await close_world(world)
