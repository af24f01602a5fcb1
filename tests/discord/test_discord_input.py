"""What users type, end to end through the real discord.py adapter: messages read without a mention (the
MESSAGE_CONTENT intent), very long messages, messages of only invisible characters, Markdown and tags that
must reach the character exactly, and character replies of only whitespace."""

from __future__ import annotations

from bot.models import Preset
from bot.ports import EVERYONE
from fakes.characterai import FakeCharacter
from fakes.discord.world import Channel, StoredMessage
from tests.discord.conftest import DiscordWorld

ECHO = FakeCharacter(id="echo", name="Echo", style="echo", chunk_chars=40, snapshot_delay=0.01)
NO_TEXT = "✏️ Your message has no text for the character to answer (only text is passed on)."
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff \u3164\u2800"
MARKUP = (
    "<b>bold?</b> *stars* **double** _under_ __twice__ ~~struck~~ ||hidden|| `tick` ```py\nx = 1\n``` "
    "[x](y) <https://example.com> > not a quote & <i>tags</i> \\*escaped\\* # not a heading"
)


async def human_said(world: DiscordWorld, conversation: str, replies: int = 1, who: str = EVERYONE) -> str:
    """The text the fake Character.AI received from the user last (once ``replies`` replies are done)."""
    await world.character_said(conversation, replies, who)
    chat_id = await world.core.store.get_chat_id(conversation, who)
    assert chat_id is not None
    return [turn.text() for turn in world.cai.chat(chat_id).turns if turn.is_human][-1]


async def use_echo(world: DiscordWorld, place: str | Channel) -> str:
    world.cai.add_character(ECHO)
    await world.core.store.put_preset(Preset(name="echo", character_id="echo", trigger="all"))
    return await world.bind(place, "echo")


def turns_asked(world: DiscordWorld) -> int:
    return len(world.cai.received("dm", "create_and_generate_turn"))


async def test_a_channel_that_answers_everything_reads_messages_without_a_mention(world: DiscordWorld) -> None:
    """Discord blanks such messages for a bot without the MESSAGE_CONTENT intent: the adapter must ask for it."""
    key = await world.bind("random", "everything")  # trigger = "all"
    text = "the lighthouse keeper writes down every ship"
    await world.discord.user_sends("random", "alice", text)  # no mention, no reply
    assert await human_said(world, key) == text
    await world.wait_for_text("random", await world.character_said(key))


async def test_markup_reaches_the_character_exactly_and_comes_back_exactly(world: DiscordWorld) -> None:
    dc = world.discord
    key = await use_echo(world, "random")
    await dc.user_sends("random", "alice", MARKUP)
    assert await human_said(world, key) == MARKUP
    reply = await world.wait_for_text("random", f"Echo: {MARKUP}")  # through the webhook, nothing escaped
    assert dc.message_view(reply).webhook_id is not None
    await dc.dm("bob", MARKUP)  # the bot itself, with the character's name in bold before the text
    dm = await world.dm_with("bob")
    assert await human_said(world, f"discord:dm:{dm.id}") == MARKUP
    assert dc.counters().client_errors == 0


async def test_a_10000_character_message_is_passed_on_whole(world: DiscordWorld) -> None:
    """Character.AI documents no limit for a message and no client checks one, so the bridge sends the text
    as it is; the character's answer (here quoting all of it) comes back in parts that join exactly."""
    dc = world.discord
    key = await use_echo(world, "random")
    text = "".join(f"line {n:04} of a very long letter; " for n in range(400))[:10_000]
    assert len(text) == 10_000
    asked = await dc.user_sends("random", "alice", text)
    assert await human_said(world, key) == text
    said = await world.character_said(key)

    def joined() -> list[StoredMessage] | None:
        parts = world.replies("random", after=asked)
        return parts if "".join(m.content for m in parts) == said else None

    parts = await world.until(joined)
    assert len(parts) == 6 and all(len(m.content) <= 2000 for m in parts)
    assert dc.counters().client_errors == 0


async def test_a_message_character_ai_refuses_as_too_long_gets_a_clear_answer(world: DiscordWorld) -> None:
    dc = world.discord
    world.cai.configure(max_message_length=4096)  # should Character.AI set a limit, this is what users see
    asked = await dc.user_sends("general", "alice", "x" * 10_000, mention_bot=True)
    notice = await world.until(lambda: next(iter(world.replies("general", after=asked)), None))
    await dc.wait_for(lambda: notice.content.startswith("⚠️"))
    assert notice.content == "⚠️ The character could not take that message."


async def test_a_message_of_invisible_characters_is_an_empty_one(world: DiscordWorld) -> None:
    """Nothing goes upstream. Addressed to the bot (mention, DM) it says there is no text; chatter in a
    channel that answers everything is left alone."""
    dc = world.discord
    key = await use_echo(world, "random")
    await dc.user_sends("random", "alice", INVISIBLE)  # chatter: ignored
    asked = await dc.user_sends("general", "bob", INVISIBLE, mention_bot=True)
    answer = await world.wait_for_text("general", NO_TEXT)
    assert answer.author_id == dc.bot.id and answer.reply_to == asked.id
    await dc.dm("bob", INVISIBLE)
    await world.wait_for_text(await world.dm_with("bob"), NO_TEXT)
    record = await dc.slash("general", "alice", "chat", message=INVISIBLE)
    usage = await world.until(lambda: record.original_message_id)
    await dc.wait_for(lambda: dc.message_view(usage).content.startswith("Usage: /chat"))
    assert turns_asked(world) == 0
    await dc.user_sends("random", "alice", "and now some words")  # after the chatter, in its channel
    assert await human_said(world, key) == "and now some words"
    assert turns_asked(world) == 1 and len(world.replies("random")) == 1
    assert dc.counters().client_errors == 0


async def test_a_reply_of_only_whitespace_ends_in_a_clear_text_not_an_empty_message(world: DiscordWorld) -> None:
    """Discord refuses whitespace-only content (400/50006); the bridge never sends it, whichever way it speaks."""
    dc = world.discord
    blank = " \n\t \n "
    empty = "⚠️ The character sent an empty reply."
    world.cai.script_reply("rex", blank)
    await dc.user_sends("general", "alice", "say nothing", mention_bot=True)  # the character's webhook
    await world.wait_for_text("general", empty)
    world.cai.script_reply("rex", blank)
    await dc.dm("bob", "say nothing to me")  # the bot itself
    await world.wait_for_text(await world.dm_with("bob"), "**Captain Rex**\n" + empty)
    world.cai.script_reply("rex", blank)
    record = await dc.slash("general", "alice", "chat", message="and here?")  # the interaction
    original = await world.until(lambda: record.original_message_id)
    await dc.wait_for(lambda: dc.message_view(original).content == "**Captain Rex**\n" + empty)
    assert [call for call in dc.requests if call.status == 400] == []
    assert dc.counters().client_errors == 0
