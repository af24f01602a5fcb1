"""Characters speak through one webhook per channel under their own name and avatar; without Manage Webhooks
(or with the channel's 15 webhooks taken) the bot speaks as itself and tells the admins once."""

from __future__ import annotations

import discord

from tests.discord.conftest import CHARACTERS, REX_AVATAR, DiscordWorld

BOLD_STYLED = "**Rex the Bold**\n"


async def test_preset_name_and_avatar_through_one_reused_webhook(world: DiscordWorld) -> None:
    dc = world.discord
    key = await world.bind("general", "styled")
    for number, text in enumerate(["ahoy", "where is the map?"], start=1):
        await dc.user_sends("general", "alice", text, mention_bot=True)
        reply = await world.wait_for_text("general", await world.character_said(key, replies=number))
        view = dc.message_view(reply)
        assert (view.author_name, view.avatar_url) == ("Rex the Bold", REX_AVATAR)
        assert view.webhook_id is not None
    hooks = dc.world.webhooks_in(dc.channel("general").id)
    assert len(hooks) == 1 and hooks[0].name == "charbridge"  # created once, then reused
    assert len(dc.calls("POST", "/channels/{channel_id}/webhooks")) == 1
    assert {m.webhook_id for m in world.replies("general")} == {hooks[0].id}


async def test_without_preset_styling_the_character_brings_its_own_name_and_avatar(world: DiscordWorld) -> None:
    dc = world.discord
    key = await world.bind("general", "rex")
    await dc.user_sends("general", "alice", "ahoy", mention_bot=True)
    reply = await world.wait_for_text("general", await world.character_said(key))
    view = dc.message_view(reply)
    assert view.author_name == "Captain Rex"
    assert view.avatar_url is not None and "rex/portrait.webp" in view.avatar_url


async def test_an_existing_webhook_is_found_by_name(world: DiscordWorld) -> None:
    dc = world.discord
    general = dc.channel("general")
    existing = dc.world.add_webhook(general, "charbridge", None, dc.bot, dc.application_id)
    key = await world.bind("general", "styled")
    await dc.user_sends("general", "alice", "ahoy", mention_bot=True)
    reply = await world.wait_for_text("general", await world.character_said(key))
    assert reply.webhook_id == existing.id
    assert dc.calls("POST", "/channels/{channel_id}/webhooks") == []


async def manage_webhooks_off(world: DiscordWorld, name: str) -> None:
    dc = world.discord
    await dc.set_manage_webhooks(name, False)
    channel = world.adapter.client.get_channel(dc.channel(name).id)
    assert isinstance(channel, discord.TextChannel)
    await dc.wait_for(lambda: not channel.permissions_for(channel.guild.me).manage_webhooks)


async def test_without_manage_webhooks_the_bot_speaks_in_bold_and_tells_admins_once(world: DiscordWorld) -> None:
    dc = world.discord
    await manage_webhooks_off(world, "general")
    key = await world.bind("general", "styled")
    asked = []
    for number, text in enumerate(["ahoy", "where is the map?"], start=1):
        asked.append(await dc.user_sends("general", "alice", text, mention_bot=True))
        said = await world.character_said(key, replies=number)
        reply = await world.wait_for_text("general", BOLD_STYLED + said)
        assert reply.author_id == dc.bot.id and reply.webhook_id is None
        assert reply.reply_to == asked[-1].id  # answers the user's message, without pinging them
        assert not reply.pings.anyone
    await dc.wait_for(lambda: len(world.replies("general")) == 3)
    notices = [m for m in world.replies("general") if "Manage Webhooks" in m.content]
    assert len(notices) == 1 and notices[0].author_id == dc.bot.id
    assert dc.world.webhooks_in(dc.channel("general").id) == []


async def test_the_webhook_limit_falls_back_and_tells_admins(world: DiscordWorld) -> None:
    dc = world.discord
    channel = dc.channel("random")
    for number in range(dc.config.max_webhooks_per_channel):
        dc.world.add_webhook(channel, f"feed-{number}", None, dc.user("alice"), None)
    key = await world.bind("random", "styled")
    await dc.user_sends("random", "alice", "ahoy", mention_bot=True)
    reply = await world.wait_for_text("random", BOLD_STYLED + await world.character_said(key))
    assert reply.author_id == dc.bot.id
    await dc.wait_for(lambda: any("15 webhooks" in m.content for m in world.replies("random")))


async def test_in_a_dm_the_bot_speaks_with_the_bold_name(world: DiscordWorld) -> None:
    dc = world.discord
    await dc.dm("alice", "hello")
    dm = await world.dm_with("alice")
    await world.wait_for_text(dm, "**Captain Rex**\n" + await world.character_said(f"discord:dm:{dm.id}"))
    key = await world.bind(dm, "styled")  # once the default preset has answered, not while it does
    await dc.dm("alice", "tell me more")
    said = await world.character_said(key, replies=2)
    assert said == CHARACTERS[0].reply_to("tell me more")
    await world.wait_for_text(dm, BOLD_STYLED + said)
    assert all(m.webhook_id is None for m in world.replies(dm))
    assert not any("Manage Webhooks" in m.content for m in world.replies(dm))


async def test_webhook_deleted_by_an_admin_is_replaced(world: DiscordWorld) -> None:
    dc = world.discord
    key = await world.bind("general", "styled")
    await dc.user_sends("general", "alice", "ahoy", mention_bot=True)
    first = await world.wait_for_text("general", await world.character_said(key))
    assert first.webhook_id is not None
    del dc.world.webhooks[first.webhook_id]  # deleted in the channel settings
    await dc.user_sends("general", "alice", "still there?", mention_bot=True)
    second = await world.wait_for_text("general", await world.character_said(key, replies=2))
    assert second.webhook_id not in (None, first.webhook_id)


async def test_a_thread_uses_its_channels_preset_and_webhook(world: DiscordWorld) -> None:
    dc = world.discord
    await world.bind("general", "styled")
    thread = dc.channel("chat-thread")
    await dc.user_sends(thread, "alice", "ahoy from the thread", mention_bot=True)
    said = await world.character_said(world.channel_key("general"))  # the channel's binding, and its chat
    reply = await world.wait_for_text(thread, said)
    view = dc.message_view(reply)
    assert (view.author_name, view.avatar_url) == ("Rex the Bold", REX_AVATAR)
    assert [hook.channel_id for hook in dc.world.webhooks.values()] == [dc.channel("general").id]


async def test_binding_a_character_posts_its_greeting_as_the_character(world: DiscordWorld) -> None:
    """After ``/preset use`` in a channel and in a thread, the character greets there itself (webhook persona)."""
    dc = world.discord
    general, thread = dc.channel("general"), dc.channel("chat-thread")
    for place in (general, thread):
        record = await dc.slash(place.name, "alice", "preset", {"name": "styled"}, subcommand="use")  # the owner
        await world.until(lambda record=record: record.original_message_id)  # the admin's answer

        def greeted(place: object = place) -> object:
            return next((m for m in world.replies(place) if dc.message_view(m).content == "Arr, Rex here."), None)

        greeting = await world.until(greeted)
        assert dc.message_view(greeting).author_name == "Rex the Bold"
