"""What a Discord app or a user can send that the bot cannot simply answer, end to end through the real discord.py
adapter: slash commands the bot does not have in that shape (an out-of-date command list), autocomplete for them,
oversized option values, stickers and files, edited messages. Each gets an answer or a deliberate silence, never
"The application did not respond", and nothing of it logs an error."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from adapters.discord.tree import OUT_OF_DATE
from bot.door import ONLY_TEXT
from fakes.discord.interactions import AUTOCOMPLETE_RESULT, CHANNEL_MESSAGE, InteractionRecord
from fakes.discord.world import StoredMessage
from tests.discord.conftest import DiscordWorld

STALE: dict[str, dict[str, Any]] = {
    "unknown command": {"name": "nosuch", "type": 1},
    "removed command with its old options": {
        "id": "1111", "name": "ask", "type": 1, "options": [{"name": "prompt", "type": 3, "value": "hi"}],
    },
    "group without a subcommand": {"name": "preset", "type": 1},
    "unknown subcommand": {"name": "preset", "type": 1, "options": [{"name": "frobnicate", "type": 1}]},
    "renamed option": {"name": "chat", "type": 1, "options": [{"name": "text", "type": 3, "value": "hi"}]},
    "option of another type": {"name": "chat", "type": 1, "options": [{"name": "message", "type": 4, "value": 5}]},
    "value of another type": {"name": "chat", "type": 1, "options": [{"name": "message", "type": 3, "value": 5}]},
    "malformed options": {"name": "chat", "type": 1, "options": "message"},
    "subcommand of a plain command": {"name": "status", "type": 1, "options": [{"name": "list", "type": 1}]},
    "context menu command": {"name": "Ask Rex", "type": 3, "target_id": "42"},
}  # fmt: skip


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Any:
    """Nothing a user or Discord sends may log an error or a traceback (warnings are fine)."""
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info is not None]
    assert not bad, [f"{r.levelname} {r.name}: {r.getMessage()}" for r in bad]


async def answer_of(world: DiscordWorld, record: InteractionRecord) -> StoredMessage:
    """The interaction's answer once the bot acknowledged it with a message (deferring shows no text)."""
    dc = world.discord

    def answered() -> StoredMessage | None:
        message_id = record.original_message_id
        if message_id is None:
            return None
        message = dc.world.messages[message_id]
        return message if message.content else None

    return await world.until(answered)


def turns_asked(world: DiscordWorld) -> int:
    return len(world.cai.received("dm", "create_and_generate_turn"))


@pytest.mark.parametrize("data", list(STALE.values()), ids=list(STALE))
async def test_a_command_the_bot_does_not_have_in_that_shape_is_answered_as_out_of_date(
    world: DiscordWorld, data: dict[str, Any]
) -> None:
    record = await world.discord.slash_raw("general", "alice", data)
    answer = await answer_of(world, record)
    view = world.discord.interaction_view(record)
    assert answer.content == OUT_OF_DATE
    assert view.ack_type == CHANNEL_MESSAGE and view.ephemeral and view.double_acks == 0
    assert turns_asked(world) == 0


async def test_a_missing_option_is_named_with_the_usage(world: DiscordWorld) -> None:
    dc = world.discord
    chat = await answer_of(world, await dc.slash("general", "alice", "chat"))
    assert chat.content == "⚠️ Missing message. Usage: /chat message:…"
    use = await answer_of(world, await dc.slash("general", "alice", "preset", subcommand="use", chat_id="x"))
    assert use.content == "⚠️ Missing name. Usage: /preset use name:…"
    npc = await answer_of(world, await dc.slash("general", "alice", "npc", message="hello"))
    assert npc.content == "⚠️ Missing character. Usage: /npc character:… message:…"
    assert turns_asked(world) == 0


async def test_an_unknown_command_id_with_the_current_shape_still_runs(world: DiscordWorld) -> None:
    """discord.py finds commands by name: a registration id the bot never made is no reason to refuse."""
    record = await world.discord.slash_raw("general", "alice", {"id": "12345", "name": "status", "type": 1})
    answer = await answer_of(world, record)
    assert answer.content.startswith("Character: rex")


async def test_autocomplete_answers_with_choices_or_with_none(world: DiscordWorld) -> None:
    dc = world.discord
    known = await dc.autocomplete("general", "alice", "preset", "name", "st", subcommand="show")
    assert (await dc.wait_for(lambda: known.choices)) == [{"name": "styled", "value": "styled"}]
    for record in [
        await dc.autocomplete("general", "alice", "nosuch", "name", "st"),
        await dc.autocomplete("general", "alice", "preset", "name", "st", subcommand="frobnicate"),
        await dc.autocomplete("general", "alice", "chat", "message", "he"),  # an option without autocomplete
    ]:
        await dc.wait_for(lambda record=record: record.acknowledged)  # type: ignore[misc]
        assert record.ack_type == AUTOCOMPLETE_RESULT and record.choices == []


async def test_an_oversized_option_value_is_echoed_cut(world: DiscordWorld) -> None:
    """Discord lets an option hold 6000 characters; the answer shows a line of them, in one message."""
    huge = "ж" * 6000
    record = await world.discord.slash("general", "alice", "preset", {"name": huge}, subcommand="show")
    answer = await answer_of(world, record)
    assert answer.content.count("ж") <= 100 and "…" in answer.content
    assert world.discord.interaction_view(record).followup_ids == []


async def test_stickers_and_files_get_one_answer_a_while(world: DiscordWorld) -> None:
    """Only text reaches the character. A DM of stickers is told so once; a file with a mention in a channel is
    told too, and a file with words passes the words on."""
    dc = world.discord
    await dc.dm("bob", "", stickers=["wave"])
    dm = await world.dm_with("bob")
    await world.wait_for_text(dm, ONLY_TEXT)
    await dc.dm("bob", "", stickers=["wave"])
    await dc.dm("bob", "", files=["cat.png"])
    await dc.dm("bob", "and hello in words")  # the barrier: answered after the stickers before it were handled
    assert await world.character_said(f"discord:dm:{dm.id}")
    assert [m.content for m in world.replies(dm)].count(ONLY_TEXT) == 1
    asked = await dc.user_sends("general", "alice", "", mention_bot=True, files=["map.png"])
    notice = await world.wait_for_text("general", ONLY_TEXT)
    assert notice.reply_to == asked.id
    await dc.user_sends("general", "alice", "what is on this map?", mention_bot=True, files=["map.png"])
    key = world.channel_key("general")
    await world.character_said(key)
    chat_id = await world.core.store.get_chat_id(key, "*")
    assert chat_id is not None
    said = [turn.text() for turn in world.cai.chat(chat_id).turns if turn.is_human]
    assert said == ["what is on this map?"]
    assert dc.counters().client_errors == 0


async def test_an_edited_message_is_not_answered_again(world: DiscordWorld) -> None:
    dc = world.discord
    key = world.channel_key("general")
    first = await dc.user_sends("general", "alice", "tell me about ships", mention_bot=True)
    await world.character_said(key)
    await dc.user_edits(first, f"<@{dc.bot.id}> tell me about the sea instead")
    await dc.user_sends("general", "alice", "and about ports", mention_bot=True)  # the barrier
    await world.character_said(key, replies=2)
    chat_id = await world.core.store.get_chat_id(key, "*")
    assert chat_id is not None
    said = [turn.text() for turn in world.cai.chat(chat_id).turns if turn.is_human]
    assert said == ["tell me about ships", "and about ports"]
    assert turns_asked(world) == 2
