"""The reply journal on Discord: the real bridge process is killed (SIGKILL) while a character's reply streams through
the channel's webhook, or while it speaks as the bot in a DM, and the next start finishes that very message once
(the webhook is found again: its token is never stored)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from fakes.characterai import FakeCharacter, FakeCharacterAI
from fakes.discord import FakeDiscord, FakeDiscordConfig
from fakes.discord.world import StoredMessage
from tests.e2e.bridge_process import WAIT, BridgeProcess, common_config, toml_table

DISCORD_TOKEN = "not-a-real-discord-token-journal"
ADA = FakeCharacter(id="ada", name="Ada", greeting="Hello, I am Ada.", style="librarian", chunk_chars=6)
RUNNING = "discord is running"
FINISHED = "finished the interrupted reply"


@dataclass
class World:
    cai: FakeCharacterAI
    discord: FakeDiscord
    bridge: BridgeProcess

    async def first_text(self, find: Callable[[], StoredMessage | None]) -> StoredMessage:
        """The reply's first message, once posted and written down in the bridge's journal."""
        message = await self.discord.wait_for(find, timeout=WAIT)
        assert message is not None
        await self.bridge.logged("1 message(s) journaled")
        return message


@pytest.fixture(params=["sqlite", "redis"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    cai = FakeCharacterAI(characters=[ADA], seed=1)
    await cai.start()
    discord = FakeDiscord(FakeDiscordConfig(token=DISCORD_TOKEN, heartbeat_interval=1.0))
    await discord.start()
    env = {"CHARBRIDGE_DISCORD__TOKEN": DISCORD_TOKEN, "CHARBRIDGE_CHARACTERAI__TOKEN": cai.token}
    if request.param == "redis":
        env["CHARBRIDGE_STORAGE__REDIS_URL"] = str(request.getfixturevalue("redis_url"))
    config = common_config(tmp_path / "data", cai, recovery_wait=2.0) + toml_table(
        "discord",
        {"api_base": discord.api_base, "gateway_url": discord.gateway_url, "guild_ready_timeout": 0.1},
    )
    config = config.replace("[discord]\n", f"[discord]\nguild_ids = [{discord.guild.id}]\n")
    bridge = BridgeProcess(tmp_path, config, env)
    try:
        yield World(cai, discord, bridge)
    finally:
        await bridge.close()
        await discord.stop()
        await cai.stop()


async def test_a_webhook_reply_killed_mid_stream_is_finished_in_place_once(world: World) -> None:
    prompt = "who keeps the archive"
    expected = ADA.reply_to(prompt)
    world.cai.inject("drop", after_snapshots=2, hold=True)
    await world.bridge.start(RUNNING)
    await world.discord.user_sends("general", "alice", prompt, mention_bot=True)

    def webhook_post() -> StoredMessage | None:
        return next((m for m in world.discord.messages_in("general") if m.webhook_id is not None), None)

    partial = await world.first_text(webhook_post)
    assert expected.startswith(partial.content) and partial.content != expected
    await world.bridge.kill()
    world.cai.release_stalls()

    await world.bridge.start(RUNNING)
    await world.bridge.logged(FINISHED)
    await world.bridge.stop()
    posts = [m for m in world.discord.messages_in("general") if m.webhook_id is not None]
    assert [(m.id, m.content) for m in posts] == [(partial.id, expected)]  # the same post, now whole
    assert world.discord.message_view(posts[0]).author_name == "Ada"
    assert world.discord.bot_messages("general") == []  # nothing from the bot itself
    assert "Traceback" not in world.bridge.log()


async def test_a_dm_reply_killed_mid_stream_is_finished_in_place_once(world: World) -> None:
    prompt = "a quiet corner to read"
    expected = ADA.reply_to(prompt)
    world.cai.inject("drop", after_snapshots=2, hold=True)
    await world.bridge.start(RUNNING)
    await world.discord.dm("alice", prompt)

    def bot_post() -> StoredMessage | None:
        channel = world.discord.dm_channel("alice")
        return None if channel is None else next(iter(world.discord.bot_messages(channel)), None)

    partial = await world.first_text(bot_post)
    bold_name = "**Ada**\n"
    assert partial.content.startswith(bold_name) and expected.startswith(partial.content.removeprefix(bold_name))
    await world.bridge.kill()
    world.cai.release_stalls()

    await world.bridge.start(RUNNING)
    await world.bridge.logged(FINISHED)
    await world.bridge.stop()
    channel = world.discord.dm_channel("alice")
    assert channel is not None
    assert [(m.id, m.content) for m in world.discord.bot_messages(channel)] == [(partial.id, bold_name + expected)]
    assert "Traceback" not in world.bridge.log()


async def test_posts_of_a_webhook_deleted_meanwhile_get_the_ending_anew_once(world: World) -> None:
    prompt = "where did the old index go"
    expected = ADA.reply_to(prompt)
    world.cai.inject("drop", after_snapshots=2, hold=True)
    await world.bridge.start(RUNNING)
    await world.discord.user_sends("general", "alice", prompt, mention_bot=True)

    def webhook_post() -> StoredMessage | None:
        return next((m for m in world.discord.messages_in("general") if m.webhook_id is not None), None)

    partial = await world.first_text(webhook_post)
    await world.bridge.kill()
    # an admin deletes the channel's webhook while the bridge is down (as Discord's REST API does it)
    headers = {"Authorization": f"Bot {DISCORD_TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.delete(f"{world.discord.api_base}/webhooks/{partial.webhook_id}", headers=headers) as deleted,
    ):
        assert deleted.status == 204
    world.cai.release_stalls()

    await world.bridge.start(RUNNING)
    await world.bridge.logged("posted the interrupted reply")
    await world.bridge.stop()
    posts = [m for m in world.discord.messages_in("general") if m.webhook_id is not None]
    # the old post cannot be edited by anyone now; the whole reply follows it once, under a new webhook
    assert [m.content for m in posts] == [partial.content, expected]
    assert posts[1].webhook_id != partial.webhook_id
    assert world.discord.message_view(posts[1]).author_name == "Ada"
