"""Discord messages and interactions -> ChatRequest.

The discord.py objects are real: a plain discord.py client runs against the fake Discord and the tests
normalise what it receives (channels, threads, DMs, replies, mentions, webhooks, slash commands).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from adapters.discord.normalize import BotIdentity, command_text, normalize_interaction, normalize_message
from fakes.discord import FakeDiscord, FakeDiscordConfig
from tests.discord.client_on_fake import connected

TOKEN = "test-token"


class Capture(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.messages: list[discord.Message] = []
        self.edits: list[discord.Message] = []
        self.interactions: list[discord.Interaction] = []

    async def on_message(self, message: discord.Message) -> None:
        self.messages.append(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.edits.append(payload.message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(FakeDiscordConfig(heartbeat_interval=0.5)) as server:
        yield server


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[Capture]:
    async with connected(fake, Capture(), TOKEN) as capture:
        yield capture


@pytest.fixture
def me(fake: FakeDiscord) -> BotIdentity:
    return BotIdentity(id=fake.bot.id)


async def received(fake: FakeDiscord, client: Capture, count: int) -> discord.Message:
    await fake.wait_for(lambda: len(client.messages) >= count)
    return client.messages[count - 1]


async def test_channel_mention_is_detected_and_stripped(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    sent = await fake.user_sends("general", "alice", f"hey <@{fake.bot.id}> how are you", mention_bot=True)
    request = normalize_message(await received(fake, client, 1), me)
    assert request is not None
    general, guild = fake.channel("general").id, fake.guild.id
    assert request.conversation_id == f"discord:{guild}:{general}" and request.thread_id is None
    assert request.conversation_key == request.conversation_id
    assert request.mentions_bot and request.text == "hey how are you"
    assert not request.is_dm and not request.reply_to_bot and request.reply_to_id is None
    assert request.user_id == f"discord:{fake.user('alice').id}" and request.user_name == "alice"
    assert request.message_id == f"discord:{general}:{sent.id}"
    assert (request.target.chat, request.target.thread, request.target.reply_to) == (str(general), None, str(sent.id))
    assert request.target.extra == {"guild": str(guild)}


async def test_mention_at_the_start_or_alone_on_a_line(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    await fake.user_sends("general", "alice", f"<@{fake.bot.id}>\nfirst line\nsecond line", mention_bot=True)
    await fake.user_sends("general", "alice", f"tell me  <@!{fake.bot.id}>", mention_bot=True)
    first = normalize_message(await received(fake, client, 1), me)
    second = normalize_message(await received(fake, client, 2), me)
    assert first is not None and first.text == "first line\nsecond line" and first.mentions_bot
    assert second is not None and second.text == "tell me" and second.mentions_bot


async def test_plain_message_and_other_mentions(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    bob = fake.user("bob")
    await fake.user_sends("general", "alice", f"ask <@{bob.id}> in <#{fake.channel('random').id}>")
    request = normalize_message(await received(fake, client, 1), me)
    assert request is not None and not request.mentions_bot
    assert request.text == "ask @bob in #random"


async def test_thread_keeps_the_parent_conversation(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    thread = fake.channel("chat-thread")
    sent = await fake.user_sends(thread, "bob", "in the thread", mention_bot=True)
    request = normalize_message(await received(fake, client, 1), me)
    assert request is not None
    general = fake.channel("general").id
    assert request.conversation_id == f"discord:{fake.guild.id}:{general}"
    assert request.thread_id == str(thread.id)
    assert request.conversation_key == f"discord:{fake.guild.id}:{general}/{thread.id}"
    assert request.message_id == f"discord:{thread.id}:{sent.id}"
    assert (request.target.chat, request.target.thread) == (str(general), str(thread.id))


async def test_direct_message(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    sent = await fake.dm("bob", "a private word")
    request = normalize_message(await received(fake, client, 1), me)
    assert request is not None and request.is_dm
    dm = fake.dm_channel("bob")
    assert dm is not None
    assert request.conversation_id == f"discord:dm:{dm.id}" and request.thread_id is None
    assert request.message_id == f"discord:{dm.id}:{sent.id}" and request.text == "a private word"
    assert request.target.chat == str(dm.id) and "guild" not in request.target.extra


async def test_stickers_and_files_are_media_and_an_edit_is_marked(
    fake: FakeDiscord, client: Capture, me: BotIdentity
) -> None:
    await fake.dm("bob", "", stickers=["wave"])
    await fake.user_sends("general", "alice", "look", mention_bot=True, files=["map.png"])
    sent = await fake.user_sends("general", "alice", "plain words", mention_bot=True)
    sticker, photo, plain = [normalize_message(await received(fake, client, n), me) for n in (1, 2, 3)]
    assert sticker is not None and sticker.has_media and sticker.text == "" and sticker.is_dm
    assert photo is not None and photo.has_media and photo.text == "look"
    assert plain is not None and not plain.has_media and not plain.edited
    await fake.user_edits(sent, f"<@{fake.bot.id}> other words")
    await fake.wait_for(lambda: client.edits)
    edit = normalize_message(client.edits[0], me)
    assert edit is not None and edit.edited and edit.text == "other words" and edit.message_id == plain.message_id


async def test_reply_to_the_bot(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    channel = client.get_channel(fake.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    ours = await channel.send("I am the bot")
    await fake.user_sends("general", "alice", "answering you", reply_to=ours.id)
    await fake.user_sends("general", "bob", "answering alice", reply_to=fake.messages_in("general")[-1])
    await fake.wait_for(lambda: len(client.messages) >= 3)
    own, to_bot, to_alice = client.messages
    assert normalize_message(own, me) is None  # the bot's own message (echoed by Discord)
    request = normalize_message(to_bot, me)
    assert request is not None and request.reply_to_bot and request.text == "answering you"
    assert request.reply_to_id == f"discord:{channel.id}:{ours.id}"
    other = normalize_message(to_alice, me)
    assert other is not None and not other.reply_to_bot and other.reply_to_id is not None


async def test_reply_to_a_character_webhook(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    channel = client.get_channel(fake.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    hook = await channel.create_webhook(name="charbridge")
    said = await hook.send("Arr!", username="Captain Redbeard", wait=True)
    await fake.user_sends("general", "alice", "tell me more", reply_to=said.id)
    await fake.wait_for(lambda: len(client.messages) >= 2)
    character, reply = client.messages
    ours = BotIdentity(id=fake.bot.id, webhook_ids={hook.id})
    assert normalize_message(character, ours) is None  # the bot never answers its characters
    assert normalize_message(character, me) is None  # nor any other webhook
    request = normalize_message(reply, ours)
    assert request is not None and request.reply_to_bot and not request.mentions_bot
    someone_elses = normalize_message(reply, me)  # the same reply, when the webhook is not ours
    assert someone_elses is not None and not someone_elses.reply_to_bot


async def test_slash_chat_in_a_channel(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    record = await fake.slash("general", "alice", "chat", message="  hello there  ")
    await fake.wait_for(lambda: client.interactions)
    request = normalize_interaction(client.interactions[0], me)
    assert request is not None
    general = fake.channel("general").id
    assert request.command == "chat" and request.text == "hello there"
    assert request.conversation_id == f"discord:{fake.guild.id}:{general}" and not request.is_dm
    assert request.message_id == f"discord:{general}:{record.id}"
    assert request.target.extra == {"interaction": str(record.id), "guild": str(fake.guild.id)}


async def test_slash_in_a_thread_and_in_a_dm(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    thread = fake.channel("chat-thread")
    await fake.slash(thread, "bob", "reset")
    dm = fake.world.open_dm(fake.user("bob"))
    await fake.slash(dm, "bob", "chat", message="psst")
    await fake.wait_for(lambda: len(client.interactions) >= 2)
    in_thread = normalize_interaction(client.interactions[0], me)
    in_dm = normalize_interaction(client.interactions[1], me)
    assert in_thread is not None and in_thread.command == "reset" and in_thread.text == ""
    assert in_thread.thread_id == str(thread.id)
    assert in_thread.conversation_id == f"discord:{fake.guild.id}:{fake.channel('general').id}"
    assert in_dm is not None and in_dm.is_dm and in_dm.conversation_id == f"discord:dm:{dm.id}"
    assert in_dm.text == "psst" and in_dm.user_id == f"discord:{fake.user('bob').id}"


async def test_component_interactions_are_not_requests(fake: FakeDiscord, client: Capture, me: BotIdentity) -> None:
    message = await fake.user_sends("general", "alice", "a message with a button")
    await fake.click(message, "some-button", "alice")
    await fake.wait_for(lambda: client.interactions)
    assert normalize_interaction(client.interactions[0], me) is None


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ([{"name": "message", "type": 3, "value": "hi there"}], "hi there"),
        ([], ""),
        (
            [{"name": "use", "type": 1, "options": [{"name": "name", "type": 3, "value": "kira"}]}],
            "use kira",
        ),
        (
            [
                {
                    "name": "set",
                    "type": 1,
                    "options": [
                        {"name": "name", "type": 3, "value": "kira"},
                        {"name": "key", "type": 3, "value": "display_name"},
                        {"name": "value", "type": 3, "value": "Kira the Great"},
                    ],
                }
            ],
            'set kira display_name "Kira the Great"',
        ),
        ([{"name": "count", "type": 4, "value": 5}], "5"),
    ],
)
def test_command_text(options: list[dict[str, Any]], text: str) -> None:
    assert command_text({"name": "cmd", "options": options}) == text
