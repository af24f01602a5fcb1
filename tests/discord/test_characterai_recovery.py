"""Discord end to end on the fake Character.AI's failure modes: a reply whose socket dropped is followed until
the service has finished it, then shown once and whole; a model failure says "could not answer"."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from bot.upstream.base import USER_MESSAGES, ErrorCode
from fakes.characterai import FakeCharacterAI
from tests.discord.conftest import DiscordWorld


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


async def test_a_reply_cut_by_a_drop_arrives_whole_and_once(world: DiscordWorld) -> None:
    dc, cai = world.discord, world.cai
    full = "Arr, the tale of the Salty Gull." + " She sailed at dawn and came home with the tide." * 5
    cai.script_reply("rex", full)
    cai.inject("drop", target="dm", command="create_and_generate_turn", after_snapshots=4, hold=True)
    asked = await dc.user_sends("general", "alice", "tell me a sea story", mention_bot=True)

    # the socket dropped and the server holds the rest: the bridge keeps reading the history, and nothing it
    # shows meanwhile is the whole reply
    await until(lambda: len(cai.received("dm", "create_and_generate_turn")) == 1)
    chat_id = upstream_chat(cai)
    await until(lambda: len(cai.received("rest", f"GET /turns/{chat_id}/")) >= 3)
    assert all(m.content != full for m in world.replies("general", after=asked))
    cai.release_stalls()

    reply = await world.wait_for_text("general", full)
    assert world.replies("general", after=asked) == [reply]
    texts = [version.content for version in dc.message_view(reply).versions]
    assert texts[-1] == full and all(full.startswith(t) for t in texts), texts
    assert all(len(a) < len(b) for a, b in itertools.pairwise(texts)), texts
    assert len(cai.received("dm", "create_and_generate_turn")) == 1  # the message was never sent again
    assert [t.text() for t in cai.chat(chat_id).turns][-2:] == ["tell me a sea story", full]


async def test_a_model_failure_says_the_character_could_not_answer(world: DiscordWorld) -> None:
    dc, cai = world.discord, world.cai
    cai.inject("neo_error", target="dm", command="create_and_generate_turn", error_code=500, comment="model error")
    asked = await dc.user_sends("general", "alice", "hello?", mention_bot=True)
    failed = await world.until(lambda: next(iter(world.replies("general", after=asked)), None))
    shown = await world.until(lambda: dc.message_view(failed).content or None)
    assert USER_MESSAGES[ErrorCode.MODEL] in shown
    assert USER_MESSAGES[ErrorCode.UNAVAILABLE] not in shown
    assert cai.counters["dm_connections"] == 1
