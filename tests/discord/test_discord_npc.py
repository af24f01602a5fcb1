"""Characters as NPCs in a Discord channel, end to end: the real discord.py in our adapter, the fake Discord
(rate limits on), our Character.AI client against the fake Character.AI (rooms included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.models import NpcCharacter, Preset
from bot.npc.turns import room_who
from fakes.characterai import FakeCharacter
from fakes.discord import BucketLimit
from fakes.discord.world import StoredMessage
from tests.discord.conftest import (
    CHARACTERS,
    SCALE,
    DiscordWorld,
    close_world,
    discord_pacing,
    fake_config,
    open_world,
)

REX, ADA = CHARACTERS
ZORA = FakeCharacter(id="zora", name="Zora", style="oracle", chunk_chars=5, snapshot_delay=0.01)
ADA_AVATAR = "https://avatars.example/ada.png"
BY_NAME = {"Rex": REX, "Ada": ADA, "Zora": ZORA}
CAST = [
    NpcCharacter(character_id="rex", name="Rex"),  # no avatar of its own: the character's is used
    NpcCharacter(character_id="ada", name="Ada", avatar_url=ADA_AVATAR),
    NpcCharacter(character_id="zora", name="Zora"),
]


async def open_npc_world(tmp_path: Path, **options: object) -> DiscordWorld:
    opened = await open_world(tmp_path, default_preset=None, **options)
    opened.cai.add_character(ZORA)
    for preset in (
        Preset(name="party", character_id="rex", npcs=CAST, queue_notice_after=None),
        Preset(name="hall", character_id="rex", npcs=CAST, room=True, queue_notice_after=None),
    ):
        await opened.core.store.put_preset(preset)
    return opened


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DiscordWorld]:
    opened = await open_npc_world(tmp_path)
    yield opened
    await close_world(opened)


def npc_said(world: DiscordWorld, channel: str) -> list[StoredMessage]:
    """The characters' messages (through the channel webhook, not slash command answers), oldest first."""
    return [m for m in world.replies(channel) if m.webhook_id is not None and m.interaction_id is None]


async def test_named_npcs_answer_under_their_own_name_and_avatar_and_replies_reach_them(world: DiscordWorld) -> None:
    dc = world.discord
    await world.bind("general", "party")
    for name in ("Rex", "Ada", "Zora"):
        await dc.user_sends("general", "alice", f"Good evening, {name.lower()}!")
        reply = await world.wait_for_text("general", BY_NAME[name].reply_to(f"alice: Good evening, {name.lower()}!"))
        view = dc.message_view(reply)
        assert view.author_name == name and view.webhook_id is not None
        if name == "Rex":
            assert view.avatar_url is not None and "rex/portrait.webp" in view.avatar_url
        if name == "Ada":
            assert view.avatar_url == ADA_AVATAR
        assert len(view.versions) >= 2, "the reply streams as edits"
    hooks = dc.world.webhooks_in(dc.channel("general").id)
    assert len(hooks) == 1 and {m.webhook_id for m in npc_said(world, "general")} == {hooks[0].id}

    ada_message = next(m for m in npc_said(world, "general") if dc.message_view(m).author_name == "Ada")
    await dc.user_sends("general", "bob", "and the footnotes?", reply_to=ada_message)
    answer = await world.wait_for_text("general", ADA.reply_to("bob: and the footnotes?"))
    assert dc.message_view(answer).author_name == "Ada"

    record = await dc.slash("general", "alice", "npc", character="zora", message="will it rain?")
    answer = await world.wait_for_text("general", ZORA.reply_to("alice: will it rain?"))
    assert dc.message_view(answer).author_name == "Zora"
    interaction = dc.interaction_view(record)
    assert interaction.original_message_id is not None
    assert dc.message_view(interaction.original_message_id).content == "💬 **alice** to **zora**: will it rain?"

    await dc.user_sends("general", "alice", "chatter that names nobody")
    await dc.user_sends("general", "bob", "Rex, last one")
    await world.wait_for_text("general", REX.reply_to("bob: Rex, last one"))
    assert len(npc_said(world, "general")) == 6, "the chatter was not answered"
    assert dc.counters().penalties == 0


async def test_twenty_messages_from_five_users_in_a_room_run_in_arrival_order(world: DiscordWorld) -> None:
    dc = world.discord
    key = await world.bind("general", "hall")
    users = ["alice", "bob"]
    for name in ("carol", "dave", "erin"):
        dc.world.add_member(dc.guild, dc.world.add_user(name))
        users.append(name)
    names = ["Rex", "Ada", "Zora"]
    sent = []
    for i in range(20):
        text = f"{names[i % 3]}, question number {i}?"
        await dc.user_sends("general", users[i % 5], text)
        sent.append((names[i % 3], f"{users[i % 5]}: {text}"))
    expected = [BY_NAME[name].reply_to(line) for name, line in sent]

    def all_in() -> bool:
        return [m.content for m in npc_said(world, "general")] == expected

    await world.until(lambda: all_in() or None, seconds=60)
    assert [dc.message_view(m).author_name for m in npc_said(world, "general")] == [name for name, _ in sent]
    room_id = await world.core.store.get_chat_id(key, room_who(CAST))
    assert room_id is not None
    turns = world.cai.chat(room_id).turns
    assert [t.text() for t in turns if t.is_human] == [line for _, line in sent]
    assert [t.is_human for t in turns] == [True, False] * 20, "each reply was complete before the next message"
    assert world.cai.room_violations == 0
    assert dc.counters().penalties == 0


# The channel-wide webhook cap made small (4 executions per 20 s of Discord time) so that a few NPC replies
# reach it; the bridge's shared budget says the same, with 10% of margin for the time a request travels.
CAP, CAP_WINDOW = 4, 20.0 * SCALE


async def test_several_npcs_answering_at_once_stay_under_the_channel_webhook_cap(tmp_path: Path) -> None:
    world = await open_npc_world(
        tmp_path,
        fake=fake_config(webhook_channel_rate=BucketLimit(limit=CAP, window=CAP_WINDOW / SCALE)),
        pacing=discord_pacing(shared_limit=CAP, shared_window=CAP_WINDOW * 1.1, shared_burst=0),
    )
    try:
        dc = world.discord
        await world.bind("general", "party")
        lines = ["alice: Rex, Ada and Zora, good evening!", "bob: Zora and Rex, what do you see?"]
        await dc.user_sends("general", "alice", lines[0].split(": ", 1)[1])
        await dc.user_sends("general", "bob", lines[1].split(": ", 1)[1])
        expected = [REX.reply_to(lines[0]), ADA.reply_to(lines[0]), ZORA.reply_to(lines[0])]
        expected += [ZORA.reply_to(lines[1]), REX.reply_to(lines[1])]

        def all_in() -> bool:
            return sorted(m.content for m in npc_said(world, "general")) == sorted(expected)

        await world.until(lambda: all_in() or None, seconds=60)
        counters = dc.counters()
        assert counters.rate_limited == 0 and counters.penalties == 0  # no 429 of scope shared, nor any other
        executes = dc.calls("POST", "/webhooks/{webhook_id")
        assert len(executes) == 5 > CAP  # more than one window's worth, each accepted at once
    finally:
        await close_world(world)


async def test_npc_with_an_invisible_message_gets_the_usage_and_asks_nobody(world: DiscordWorld) -> None:
    dc = world.discord
    await world.bind("general", "party")
    record = await dc.slash("general", "alice", "npc", character="Zora", message="\u200b\u2060 ")
    shown = await world.until(lambda: record.original_message_id)
    await dc.wait_for(lambda: dc.message_view(shown).content.startswith("Usage: /npc"))
    assert world.cai.received("dm", "create_and_generate_turn") == [] and npc_said(world, "general") == []
