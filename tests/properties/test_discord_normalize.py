"""Discord's normaliser under arbitrary messages and slash commands.

A plain discord.py client connects to the fake Discord, so its connection state holds a real guild, channels,
a thread, a DM, roles and members as discord.py parsed them from the gateway. Each example is a gateway
payload (a MESSAGE_CREATE or INTERACTION_CREATE body) that discord.py turns into a ``Message`` or an
``Interaction`` against that state, exactly as its own gateway handlers do, so payloads can carry what no
real server would send over this socket (lone surrogates: the fake's JSON could not carry them to discord.py's
orjson), while every object is still built by discord.py itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from adapters.discord.normalize import BotIdentity, normalize_interaction, normalize_message
from bot.door import is_addressed
from bot.text import clean_text, is_blank
from fakes.discord import FakeDiscord, FakeDiscordConfig
from tests.discord.client_on_fake import connected
from tests.properties.strategies import PROPERTY, all_strings, encodable, hostile_text

TOKEN = "test-token"
OUR_WEBHOOK = 4242
STRANGER = 777
OTHER_BOT = 888
TIMESTAMP = "2026-01-01T00:00:00+00:00"
MESSAGE_TYPES = [0, 0, 0, 19, 19, 6, 7, 20]  # default, reply, pins add, member join, chat input command


class Capture(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.messages: list[discord.Message] = []

    async def on_message(self, message: discord.Message) -> None:
        self.messages.append(message)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    # A long heartbeat: the examples run synchronously and hold the event loop for a few seconds.
    async with FakeDiscord(FakeDiscordConfig(heartbeat_interval=60)) as server:
        yield server


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[Capture]:
    async with connected(fake, Capture(), TOKEN) as capture:
        yield capture


@dataclass(frozen=True)
class Place:
    channel: Any  # the discord.py channel object (TextChannel, Thread, DMChannel)
    kind: str  # "channel", "thread", "dm"


@dataclass(frozen=True)
class World:
    state: Any  # discord.py's ConnectionState of the connected client
    me: BotIdentity
    guild: discord.Guild
    places: list[Place]
    alice: int
    bob: int

    @property
    def bot(self) -> int:
        return self.me.id

    def tokens(self) -> list[str]:
        """Mention syntax of every kind, of the bot and of others, for the content."""
        roles = [role.id for role in self.guild.roles]
        channel = self.places[0].channel.id
        return [
            f"<@{self.bot}>", f"<@!{self.bot}>", f"<@{self.alice}>", f"<@!{self.bob}>", f"<@{STRANGER}>",
            *(f"<@&{role}>" for role in roles), f"<#{channel}>", "<@", "@everyone", "<@>", f"<@{self.bot}",
        ]  # fmt: skip


async def world_of(fake: FakeDiscord, client: Capture) -> World:
    await fake.dm("bob", "open the DM")
    await fake.wait_for(lambda: client.messages)
    dm = client.messages[0].channel
    general = client.get_channel(fake.channel("general").id)
    thread = client.get_channel(fake.channel("chat-thread").id)
    assert isinstance(general, discord.TextChannel) and isinstance(thread, discord.Thread)
    assert isinstance(dm, discord.DMChannel)
    return World(
        state=client._connection,
        me=BotIdentity(id=fake.bot.id, webhook_ids=frozenset({OUR_WEBHOOK})),
        guild=general.guild,
        places=[Place(general, "channel"), Place(thread, "thread"), Place(dm, "dm")],
        alice=fake.user("alice").id,
        bob=fake.user("bob").id,
    )


def user_payload(user_id: int, name: str, global_name: str | None, bot: bool = False) -> dict[str, Any]:
    payload = {"id": str(user_id), "username": name, "discriminator": "0", "global_name": global_name,
               "avatar": None, "public_flags": 0}  # fmt: skip
    return {**payload, "bot": True} if bot else payload


def member_payload(nick: str | None, roles: list[int]) -> dict[str, Any]:
    return {"roles": [str(r) for r in roles], "joined_at": TIMESTAMP, "deaf": False, "mute": False, "flags": 0,
            "nick": nick}  # fmt: skip


names = hostile_text(max_size=40).map(lambda name: name or "x")
optional_names = st.one_of(st.none(), names)
snowflakes = st.integers(10**17, 2**63 - 1)


@st.composite
def message_payloads(draw: Any, world: World) -> tuple[Place, dict[str, Any]]:
    place = draw(st.sampled_from(world.places))
    channel = place.channel
    author_kind = draw(st.sampled_from(["alice", "bob", "stranger", "bot", "other bot", "our webhook", "webhook"]))
    author_id = {"alice": world.alice, "bob": world.bob, "stranger": STRANGER, "bot": world.bot,
                 "other bot": OTHER_BOT, "our webhook": OUR_WEBHOOK, "webhook": 5151}[author_kind]  # fmt: skip
    is_bot = author_kind in ("bot", "other bot", "our webhook", "webhook")
    payload: dict[str, Any] = {
        "id": str(draw(snowflakes)),
        "channel_id": str(channel.id),
        "author": user_payload(author_id, draw(names), draw(optional_names), bot=is_bot),
        "content": draw(hostile_text(extra=world.tokens())),
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [
            user_payload(uid, draw(names), draw(optional_names), bot=uid == world.bot)
            for uid in draw(st.lists(st.sampled_from([world.bot, world.alice, world.bob, STRANGER]), unique=True))
        ],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "type": draw(st.sampled_from(MESSAGE_TYPES)),
        "flags": 0,
    }
    if place.kind != "dm":
        payload["guild_id"] = str(world.guild.id)
        payload["mention_roles"] = [str(r.id) for r in draw(st.lists(st.sampled_from(world.guild.roles), unique=True))]
        if not author_kind.endswith("webhook"):
            payload["member"] = member_payload(draw(optional_names), [])
    if author_kind.endswith("webhook"):
        payload["webhook_id"] = str(author_id)
    if payload["type"] == 19 or draw(st.integers(0, 5)) == 0:
        replied_id = draw(snowflakes)
        payload["message_reference"] = {"type": 0, "message_id": str(replied_id), "channel_id": str(channel.id)}
        replied_kind = draw(st.sampled_from(["bot", "our webhook", "person", "deleted", "unknown"]))
        if replied_kind == "deleted":
            payload["referenced_message"] = None
        elif replied_kind != "unknown":
            replied = {k: v for k, v in payload.items() if k not in ("message_reference", "webhook_id", "member")}
            replied_author = {"bot": world.bot, "our webhook": OUR_WEBHOOK, "person": world.alice}[replied_kind]
            replied.update(id=str(replied_id), type=0, author=user_payload(replied_author, "them", None))
            if replied_kind == "our webhook":
                replied["webhook_id"] = str(OUR_WEBHOOK)
            payload["referenced_message"] = replied
    return place, payload


def expected_ids(world: World, place: Place) -> tuple[str, str | None]:
    """(conversation id, thread id) of a place, as the module docstring of the normaliser specifies them."""
    channel = place.channel
    if place.kind == "dm":
        return f"discord:dm:{channel.id}", None
    if place.kind == "thread":
        return f"discord:{world.guild.id}:{channel.parent_id}", str(channel.id)
    return f"discord:{world.guild.id}:{channel.id}", None


def bot_tokens(world: World) -> list[str]:
    return [f"<@{world.bot}>", f"<@!{world.bot}>"]


def without_bot(world: World, text: str, gap: str) -> str:
    for token in bot_tokens(world):
        text = text.replace(token, gap)
    return text


async def test_any_message_normalises_consistently(fake: FakeDiscord, client: Capture) -> None:
    world = await world_of(fake, client)

    @PROPERTY
    @given(message_payloads(world))
    def check(example: tuple[Place, dict[str, Any]]) -> None:
        place, payload = example
        note(f"in a {place.kind}: {payload!r}")
        message = discord.Message(state=world.state, channel=place.channel, data=payload)  # as discord.py does
        request = normalize_message(message, world.me)
        answered = not payload["author"].get("bot") and "webhook_id" not in payload and payload["type"] in (0, 19)
        assert (request is not None) == answered
        if request is None:
            return
        assert all(encodable(s) for s in all_strings(request.model_dump()))
        conversation, thread = expected_ids(world, place)
        channel_id = place.channel.id
        assert (request.platform, request.conversation_id, request.thread_id) == ("discord", conversation, thread)
        assert request.user_id == f"discord:{payload['author']['id']}"
        assert request.message_id == f"discord:{channel_id}:{payload['id']}"
        assert request.is_dm == (place.kind == "dm")
        content = payload["content"]
        mentioned = any(token in content for token in bot_tokens(world))
        assert request.mentions_bot == mentioned
        if not any("<" in (user.get("global_name") or user["username"]) for user in payload["mentions"]):
            assert not any(token in request.text for token in bot_tokens(world))  # (a name may show one)
        reference = payload.get("message_reference")
        replied = payload.get("referenced_message")
        is_reply = payload["type"] == 19
        assert request.reply_to_id == (f"discord:{channel_id}:{reference['message_id']}" if is_reply else None)
        wrote = replied is not None and (
            replied["author"]["id"] == str(world.bot) or replied.get("webhook_id") == str(OUR_WEBHOOK)
        )
        assert request.reply_to_bot == (is_reply and wrote)
        if is_addressed(request, trigger="mention"):
            assert request.is_dm or mentioned or request.reply_to_bot
        if "<" not in content:  # no mention syntax at all: the text exactly as written
            cleaned = clean_text(content).strip()
            assert request.text == ("" if is_blank(cleaned) else cleaned)
        elif "<@" not in without_bot(world, content, "") and "<#" not in without_bot(world, content, ""):
            # only the bot's mentions: taken out, nothing else changes but the spaces around them
            expected = without_bot(world, clean_text(content), " ")
            assert request.text.split() == expected.split()

    check()


@st.composite
def options(draw: Any, bot: int, depth: int = 0) -> dict[str, Any]:
    """One option of a slash command as Discord sends it: a subcommand (group) with options, or a value."""
    kind = draw(st.sampled_from([3, 3, 3, 4, 5, 6, 10] + ([1, 2] if depth < 2 else [])))
    option: dict[str, Any] = {"name": draw(st.sampled_from(["message", "name", "use", "set", "value"])), "type": kind}
    if kind in (1, 2):
        option["options"] = draw(st.lists(options(bot, depth + 1), max_size=3))
    else:
        values = {
            3: hostile_text(extra=[f"<@{bot}>", f"<@!{bot}>", '"'], max_size=6000),
            4: st.integers(-(2**53), 2**53),
            5: st.booleans(),
            6: snowflakes.map(str),
            10: st.floats(allow_nan=False, allow_infinity=False),
        }
        option["value"] = draw(values[kind])
    return option


@st.composite
def interaction_payloads(draw: Any, world: World) -> tuple[Place, dict[str, Any]]:
    place = draw(st.sampled_from(world.places))
    channel = place.channel
    kind = draw(st.sampled_from([2, 2, 2, 3, 4]))  # application command, component, autocomplete
    data: dict[str, Any] = {"id": str(draw(snowflakes)), "name": draw(names), "type": 1}
    if kind == 3:
        data = {"custom_id": "button", "component_type": 2}
    elif draw(st.booleans()):
        data["options"] = draw(st.lists(options(world.bot), max_size=4))
    user = user_payload(draw(st.sampled_from([world.alice, world.bob])), draw(names), draw(optional_names))
    payload: dict[str, Any] = {
        "id": str(draw(snowflakes)),
        "application_id": str(world.bot),
        "type": kind,
        "token": "interaction-token",
        "version": 1,
        "attachment_size_limit": 10 * 1024 * 1024,
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "channel_id": str(channel.id),
        "channel": {"id": str(channel.id), "type": channel.type.value},
        "data": data,
    }
    if place.kind == "dm":
        payload.update(user=user, context=1, authorizing_integration_owners={"0": user["id"]})
    else:
        member = {**member_payload(draw(optional_names), []), "user": user, "permissions": "0"}
        payload.update(guild_id=str(world.guild.id), guild_locale="en-US", member=member, context=0,
                       authorizing_integration_owners={"0": str(world.guild.id)})  # fmt: skip
    return place, payload


async def test_any_slash_command_normalises_consistently(fake: FakeDiscord, client: Capture) -> None:
    world = await world_of(fake, client)

    @PROPERTY
    @given(interaction_payloads(world))
    def check(example: tuple[Place, dict[str, Any]]) -> None:
        place, payload = example
        note(f"in a {place.kind}: {payload!r}")
        interaction = discord.Interaction(data=payload, state=world.state)  # as discord.py does
        request = normalize_interaction(interaction, world.me)
        assert (request is not None) == (payload["type"] == 2)
        if request is None:
            return
        assert all(encodable(s) for s in all_strings(request.model_dump()))
        conversation, thread = expected_ids(world, place)
        assert (request.conversation_id, request.thread_id, request.is_dm) == (conversation, thread, place.kind == "dm")
        user = payload.get("user") or payload["member"]["user"]
        assert request.user_id == f"discord:{user['id']}"
        assert request.message_id == f"discord:{place.channel.id}:{payload['id']}"
        assert request.command == clean_text(payload["data"]["name"]).lower()
        assert not request.mentions_bot and not request.reply_to_bot
        assert not any(token in request.text for token in bot_tokens(world))
        if is_addressed(request, trigger="mention"):
            assert request.is_dm or request.command == "chat"

    check()
