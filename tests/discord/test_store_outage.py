"""Issue 19 on Discord (the real discord.py against the fake Discord): with the bridge's Redis really stopped, a
channel hears "temporarily unavailable" once for its mentions, while every slash command is answered with it (an
interaction must always get an answer); when Redis is back the channel's binding still holds."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.unavailable import STORE_DOWN_TEXT
from fakes.discord.interactions import InteractionRecord
from tests.discord.conftest import CHARACTERS, DiscordWorld, close_world, open_world
from tests.redis_process import running_redis

REX, ADA = CHARACTERS


async def answer_of(world: DiscordWorld, record: InteractionRecord) -> str:
    dc = world.discord
    message_id = await world.until(lambda: record.original_message_id)
    await dc.wait_for(lambda: dc.message_view(message_id).content != "")
    return dc.message_view(message_id).content


def notices(world: DiscordWorld, channel: str, besides: set[int | None]) -> list[str]:
    """The notices posted in the channel, besides the answers to slash commands (messages ``besides``)."""
    return [m.content for m in world.replies(channel) if STORE_DOWN_TEXT in m.content and m.id not in besides]


async def test_mentions_hear_the_notice_once_and_slash_commands_every_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_redis(tmp_path / "redis") as redis_server:
        storage = {"redis_url": redis_server.url, "key_prefix": "outage:", "outage_notice_every": 600}
        world = await open_world(tmp_path / "bridge", storage=storage)
        try:
            dc = world.discord
            bound = await dc.slash("general", "alice", "preset", {"name": "crowd"}, subcommand="use")
            assert "crowd" in await answer_of(world, bound)  # alice owns the server
            caplog.clear()

            await redis_server.stop()
            for i in range(3):
                await dc.user_sends("general", "bob", f"anyone there {i}?", mention_bot=True)
            await dc.user_sends("general", "bob", "just chatting among ourselves")  # not for the bot
            answers: set[int | None] = set()
            for _ in range(2):
                status = await dc.slash("general", "bob", "status")
                assert await answer_of(world, status) == f"⚠️ {STORE_DOWN_TEXT}"
                answers.add(status.original_message_id)
            await world.until(lambda: notices(world, "general", answers))

            await redis_server.start()
            await dc.user_sends("general", "bob", "back again?", mention_bot=True)
            key = world.channel_key("general")
            bob = f"discord:{dc.user('bob').id}"
            assert await world.character_said(key, who=bob) == ADA.reply_to("back again?")  # still bound to crowd
            await world.until(lambda: any(ADA.reply_to("back again?") in m.content for m in world.replies("general")))
            assert notices(world, "general", answers) == [f"⚠️ {STORE_DOWN_TEXT}"]
            assert len([r for r in caplog.records if "state store unreachable" in r.getMessage()]) == 1
            assert [r.getMessage() for r in caplog.records if r.exc_info is not None] == []
        finally:
            await close_world(world)
