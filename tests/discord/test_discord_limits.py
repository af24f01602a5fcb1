"""Discord's limits: rate limits under concurrent streaming, the 2000-character split, no pings from character
output, and the 3-second interaction deadline (all windows scaled down together)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fakes.discord.interactions import DEFERRED_CHANNEL_MESSAGE
from fakes.discord.world import StoredMessage
from tests.discord.conftest import CHARACTERS, DiscordWorld, close_world, open_world
from tests.discord.test_discord_personas import manage_webhooks_off


@pytest.mark.parametrize("webhooks", [True, False], ids=["webhook", "bot-itself"])
async def test_five_replies_streaming_at_once_cause_no_penalties(world: DiscordWorld, webhooks: bool) -> None:
    dc = world.discord
    if not webhooks:
        await manage_webhooks_off(world, "general")
    key = await world.bind("general", "crowd")  # one upstream chat per user: the five replies run at once
    users = [dc.world.add_user(f"user{number}") for number in range(5)]
    for user in users:
        dc.world.add_member(dc.guild, user)
    await asyncio.gather(
        *(
            dc.user_sends("general", user, f"question number {n} from me", mention_bot=True)
            for n, user in enumerate(users)
        )
    )
    for user in users:
        said = await world.character_said(key, who=f"discord:{user.id}")
        await world.wait_for_text("general", said if webhooks else "**Ada**\n" + said)
    counters = dc.counters()
    assert counters.penalties == 0
    assert counters.rate_limited == 0  # the pacing kept every bucket under its limit
    assert counters.client_errors == 0


async def test_a_429_storm_while_five_replies_stream_in_one_channel(world: DiscordWorld) -> None:
    """Every webhook call is refused for a while (more 429s in a row than discord.py retries, so the relay
    sees some too): all five replies still end exactly, and nothing is sent before it was allowed."""
    dc = world.discord
    key = await world.bind("general", "crowd")  # one upstream chat per user: five replies at once
    for character in CHARACTERS:  # long enough replies that they are still streaming when the storm hits
        world.cai.add_character(character.model_copy(update={"chunk_chars": 20, "snapshot_delay": 0.05}))
    users = [dc.add_member(f"stormy{number}") for number in range(5)]
    sends = dc.fail_next("POST", r"/webhooks/\d+/[\w-]+$", 429, times=12, retry_after=0.05, scope="shared")
    edits = dc.fail_next("PATCH", r"/webhooks/\d+/[\w-]+/messages/", 429, times=12, retry_after=0.05)
    await asyncio.gather(
        *(dc.user_sends("general", user, f"storm question {n}", mention_bot=True) for n, user in enumerate(users))
    )
    for user in users:
        said = await world.character_said(key, who=f"discord:{user.id}")
        await world.wait_for_text("general", said)
    assert sends.hits == sends.times and edits.hits == edits.times  # the storm happened
    assert len(world.replies("general")) == 5
    counters = dc.counters()
    assert counters.penalties == 0  # every retry waited for the retry_after it was given
    assert counters.rate_limited == 0 and counters.client_errors == 0  # no 429 but the storm's, nothing else


async def test_a_5000_character_reply_arrives_as_three_messages_that_join_exactly(world: DiscordWorld) -> None:
    dc = world.discord
    key = world.channel_key("general")
    world.cai.add_character(CHARACTERS[0].model_copy(update={"chunk_chars": 100}))  # 50 snapshots
    world.cai.script_reply("rex", length=5000)
    asked = await dc.user_sends("general", "alice", "tell me everything", mention_bot=True)
    said = await world.character_said(key)
    assert len(said) == 5000

    def joined() -> list[StoredMessage] | None:
        parts = world.replies("general", after=asked)
        return parts if "".join(m.content for m in parts) == said else None

    parts = await world.until(joined)
    assert len(parts) == 3 and all(0 < len(m.content) <= 2000 for m in parts)
    assert len({m.webhook_id for m in parts}) == 1 and parts[0].webhook_id is not None


PINGY = "Hey @everyone and @here! <@{alice}> look, <@&{role}> too, and <@123>."


async def test_character_output_pings_nobody(world: DiscordWorld) -> None:
    dc = world.discord
    fans = next(role for role in dc.guild.roles.values() if role.name == "fans")
    text = PINGY.format(alice=dc.user("alice").id, role=fans.id)
    general = world.channel_key("general")
    world.cai.script_reply("rex", text)
    await dc.user_sends("general", "bob", "say hi to everyone", mention_bot=True)  # through the webhook
    assert await world.character_said(general) == text
    await world.wait_for_text("general", text)
    world.cai.script_reply("rex", text)
    await dc.slash("general", "bob", "chat", message="once more")  # the interaction's own messages
    await world.wait_for_text("general", "**Captain Rex**\n" + text)
    await manage_webhooks_off(world, "random")
    random_key = await world.bind("random", "rex")
    world.cai.script_reply("rex", text)
    await dc.user_sends("random", "bob", "and here", mention_bot=True)  # as the bot itself
    assert await world.character_said(random_key) == text
    await world.wait_for_text("random", "**Captain Rex**\n" + text)
    replies = world.replies("general") + world.replies("random")
    assert len(replies) >= 3
    for message in replies:
        view = dc.message_view(message)
        assert not view.pings.anyone, view
        assert not any(version.mentions.anyone for version in view.versions), view


async def test_an_interaction_is_acknowledged_in_time_while_the_upstream_is_slow(tmp_path: Path) -> None:
    # Discord's real 3 s deadline, the bot's real default of deferring after 1 s, an upstream taking 4 s.
    world = await open_world(tmp_path, interaction_defer_after=1.0)
    try:
        dc = world.discord
        assert dc.config.ack_deadline == 3.0
        world.cai.inject("delay", seconds=4.0, target="dm", command="create_and_generate_turn")
        record = await dc.slash("general", "alice", "chat", message="take your time")
        await dc.wait_for(lambda: record.acknowledged)
        assert [m.content for m in world.replies("general")] == [""]  # "thinking…": no answer yet
        said = await world.character_said(world.channel_key("general"))
        original = await world.until(lambda: record.original_message_id)
        await dc.wait_for(lambda: dc.message_view(original).content == "**Captain Rex**\n" + said)
        view = dc.interaction_view(record)
        assert view.ack_type == DEFERRED_CHANNEL_MESSAGE  # deferred ("thinking…") before the deadline
        assert view.late_ack_delays == [] and view.double_acks == 0
        assert dc.counters().client_errors == 0
    finally:
        await close_world(world)


async def test_an_expired_interaction_continues_in_the_channel(world: DiscordWorld) -> None:
    """The interaction token dies mid-reply (after 15 minutes on Discord): the rest goes to the channel."""
    dc = world.discord
    world.cai.script_reply("rex", length=300)
    world.cai.inject("delay", seconds=3.0, target="dm", command="create_and_generate_turn")
    record = await dc.slash("general", "alice", "chat", message="go on")
    await dc.wait_for(lambda: record.acknowledged)  # deferred, the upstream still thinking
    dc.advance_interaction_clock(dc.config.interaction_token_ttl + 1)  # 15 minutes pass
    said = await world.character_said(world.channel_key("general"))
    reply = await world.wait_for_text("general", "**Captain Rex**\n" + said)
    assert reply.interaction_id is None and reply.author_id == dc.bot.id  # a plain channel message
    assert record.original_message_id is not None
    assert dc.message_view(record.original_message_id).content == ""  # the "thinking…" never got text


@pytest.mark.parametrize("via", [True, False], ids=["discord.py-retries", "relay-retries"])
async def test_a_429_is_waited_out_and_the_reply_completes(world: DiscordWorld, via: bool) -> None:
    """With ``Via`` discord.py sleeps retry_after and retries by itself; without it (Discord's "Cloudflare"
    case) it raises, and the relay blocks the destination for the time Discord asked, then carries on."""
    dc = world.discord
    fault = dc.fail_next("POST", r"/webhooks/\d+/", 429, retry_after=0.1 if via else 1.0, via=via)
    asked = await dc.user_sends("general", "alice", "are you rate limited?", mention_bot=True)
    reply = await world.wait_for_text("general", await world.character_said(world.channel_key("general")))
    assert fault.hits == 1 and world.replies("general", after=asked) == [reply]
    executes = dc.calls("POST", "/webhooks/{webhook_id")
    assert [call.status for call in executes][:2] == [429, 200]
    assert dc.counters().penalties == 0  # the retry came once retry_after had passed
