"""End to end: a mention, a reply in a thread, a DM and /chat each give one streamed reply whose final text is
exactly what the fake Character.AI says the character replied; the bot never answers itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.discord.adapter import DiscordAdapter
from bot.errors import StartupError
from fakes.discord.interactions import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE
from tests.discord.conftest import CHARACTERS, DiscordWorld, close_world, open_world

BOLD_REX = "**Captain Rex**\n"


async def test_mention_in_a_channel(world: DiscordWorld) -> None:
    dc = world.discord
    asked = await dc.user_sends("general", "alice", "hello, who are you?", mention_bot=True)
    reply = await world.wait_for_text("general", await world.character_said(world.channel_key("general")))
    assert world.replies("general", after=asked) == [reply]
    view = dc.message_view(reply)
    assert view.webhook_id is not None and view.author_name == "Captain Rex"  # the character's own name
    assert len(view.versions) > 1  # streamed: sent early, then edited
    assert [c.payload.get("content") for c in dc.calls("POST", "/webhooks/")][:1] == [view.versions[0].content]
    assert dc.counters().client_errors == 0


async def test_reply_in_a_thread(world: DiscordWorld) -> None:
    dc = world.discord
    thread = dc.channel("chat-thread")
    key = f"{world.channel_key('general')}/{thread.id}"
    await dc.user_sends(thread, "alice", "ahoy, captain", mention_bot=True)
    first = await world.wait_for_text(thread, await world.character_said(key))
    assert dc.message_view(first).webhook_id is not None
    follow_up = await dc.user_sends(thread, "bob", "what about the treasure?", reply_to=first)  # no mention
    second = await world.wait_for_text(thread, await world.character_said(key, replies=2))
    assert world.replies(thread, after=follow_up) == [second]
    assert world.replies("general") == []  # the thread's replies stay in the thread
    assert all(call.query.get("thread_id") == str(thread.id) for call in dc.calls("POST", "/webhooks/"))


async def test_direct_message(world: DiscordWorld) -> None:
    dc = world.discord
    await dc.dm("bob", "hi, is anyone there?")
    dm = await world.dm_with("bob")
    said = await world.character_said(f"discord:dm:{dm.id}")
    reply = await world.wait_for_text(dm, BOLD_REX + said)  # the bot itself, with the character's name in bold
    assert reply.author_id == dc.bot.id and reply.webhook_id is None
    assert len(world.replies(dm)) == 1 and len(dc.message_view(reply).versions) > 1


async def test_slash_chat(world: DiscordWorld) -> None:
    dc = world.discord
    record = await dc.slash("general", "alice", "chat", message="tell me about your ship")
    said = await world.character_said(world.channel_key("general"))
    original = dc.message_view(await world.until(lambda: record.original_message_id))
    await dc.wait_for(lambda: dc.message_view(original.id).content == BOLD_REX + said)
    view = dc.interaction_view(record)
    assert view.acknowledged and view.ack_type in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE)
    assert view.late_ack_delays == [] and view.double_acks == 0 and view.followup_ids == []
    assert len(dc.message_view(original.id).versions) > 1  # the original response was edited as it grew
    assert world.replies("general") == [dc.world.messages[original.id]]


async def test_regenerate_reset_and_status(world: DiscordWorld) -> None:
    dc = world.discord
    key = world.channel_key("general")
    await dc.slash("general", "alice", "chat", message="hi")
    first = await world.character_said(key)
    await world.wait_for_text("general", BOLD_REX + first)
    again = await dc.slash("general", "alice", "regenerate")
    second = await world.character_said(key, replies=2)
    assert second != first
    regenerated = await world.until(lambda: again.original_message_id)
    await dc.wait_for(lambda: dc.message_view(regenerated).content == BOLD_REX + second)
    status = await dc.slash("general", "bob", "status")
    shown_id = await world.until(lambda: status.original_message_id)
    # the answer may come after a deferral ("thinking…"), so wait for its text
    await dc.wait_for(lambda: dc.message_view(shown_id).content.startswith("Character: rex (characterai rex), "))
    shown = dc.message_view(shown_id)
    assert shown.flags & 64  # ephemeral: only bob sees it
    assert shown.content.startswith("Character: rex (characterai rex), the default; upstream chat ")
    reset = await dc.slash("general", "alice", "reset")
    greeted = await world.until(lambda: reset.original_message_id)
    await dc.wait_for(
        lambda: dc.message_view(greeted).content == f"New conversation started.\n\n{BOLD_REX}Arr, Rex here."
    )


async def test_the_bot_never_answers_itself(world: DiscordWorld) -> None:
    """With a preset that answers every message, the characters' own (echoed) messages are not answered."""
    dc = world.discord
    key = await world.bind("random", "everything")
    await dc.user_sends("random", "alice", "anyone here?")  # no mention needed here
    await world.wait_for_text("random", await world.character_said(key))
    await dc.user_sends("random", "bob", "and now?")
    await world.wait_for_text("random", await world.character_said(key, replies=2))
    assert len(world.cai.received("dm", "create_and_generate_turn")) == 2
    assert len(world.replies("random")) == 2
    await dc.user_sends("general", "alice", "not for you")  # default preset: mentions only
    await dc.user_sends("random", "bob", "third")
    await world.wait_for_text("random", await world.character_said(key, replies=3))
    assert len(world.cai.received("dm", "create_and_generate_turn")) == 3


async def test_slash_commands_are_synced_to_the_configured_guild(world: DiscordWorld) -> None:
    dc = world.discord
    synced = {command["name"]: command for command in dc.guild_commands[dc.guild.id]}
    assert {"chat", "reset", "regenerate", "status"} <= set(synced)
    assert [option["name"] for option in synced["chat"]["options"]] == ["message"]
    assert dc.global_commands == []


async def test_a_long_slash_reply_continues_in_a_follow_up(world: DiscordWorld) -> None:
    dc = world.discord
    world.cai.add_character(CHARACTERS[0].model_copy(update={"chunk_chars": 100}))
    world.cai.script_reply("rex", length=3000)
    record = await dc.slash("general", "alice", "chat", message="tell me everything")
    said = await world.character_said(world.channel_key("general"))

    def shown() -> str | None:
        if record.original_message_id is None or not record.followup_ids:
            return None
        parts = [dc.message_view(record.original_message_id).content]
        parts += [dc.message_view(followup).content for followup in record.followup_ids]
        text = "".join(parts)
        return text if text == BOLD_REX + said else None

    await world.until(shown)
    assert len(record.followup_ids) == 1


async def test_typing_while_the_character_thinks(world: DiscordWorld) -> None:
    dc = world.discord
    world.cai.inject("delay", seconds=0.3, target="dm", command="create_and_generate_turn")
    await dc.user_sends("general", "alice", "think about it", mention_bot=True)
    await world.wait_for_text("general", await world.character_said(world.channel_key("general")))
    assert dc.counters().typing >= 1
    assert {event.channel_id for event in dc.typing} == {dc.channel("general").id}


async def test_an_upstream_error_is_shown_briefly(world: DiscordWorld) -> None:
    dc = world.discord
    world.cai.inject("neo_error", target="dm", command="create_and_generate_turn", comment="boom")
    await dc.user_sends("general", "alice", "hello?", mention_bot=True)
    notice = await world.until(lambda: next((m for m in world.replies("general") if m.content.startswith("⚠️")), None))
    assert "boom" not in notice.content  # users see a short, safe text; details go to the log


async def test_without_any_preset_the_bot_says_so(tmp_path: Path) -> None:
    world = await open_world(tmp_path, default_preset=None)
    try:
        dc = world.discord
        asked = await dc.user_sends("general", "alice", "hello?", mention_bot=True)
        notice = await world.until(lambda: next(iter(world.replies("general", after=asked)), None))
        await dc.wait_for(lambda: notice.content.startswith("⚠️ No character is set up here yet"))
        assert notice.author_id == dc.bot.id and notice.reply_to == asked.id
        await dc.user_sends("general", "alice", "just chatting")  # not addressed: ignored
        await dc.user_sends("general", "bob", "hello again", mention_bot=True)
        await dc.wait_for(lambda: len(world.replies("general")) == 2)
        assert world.cai.received("dm", "create_and_generate_turn") == []
    finally:
        await close_world(world)


async def test_a_rejected_token_stops_the_start_with_one_line(world: DiscordWorld) -> None:
    settings = world.core.settings.model_copy(
        update={"discord": world.core.settings.discord.model_copy(update={"token": SecretStr("not-the-token")})}
    )
    adapter = DiscordAdapter(settings, world.core.door)
    with pytest.raises(StartupError, match="Discord rejected the bot token"):
        await adapter.start()
