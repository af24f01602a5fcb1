"""The Discord world: the real discord.py in our adapter, the fake Discord, the fake Character.AI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.core import Core
from bot.models import Binding, Preset
from bot.ports import EVERYONE
from bot.relay import PacingPolicy
from fakes.characterai import FakeCharacter, FakeCharacterAI
from fakes.discord import FakeDiscord, FakeDiscordConfig
from fakes.discord.world import Channel, StoredMessage
from tests.bridge_world import bridge_settings, scaled_pacing, start_core

T = TypeVar("T")

SCALE = 0.1  # Discord's windows (and our pacing) at 1/10 of real time
TOKEN = "test-token"
REX_AVATAR = "https://avatars.example/rex.png"

CHARACTERS = [
    FakeCharacter(id="rex", name="Captain Rex", greeting="Arr, Rex here.", style="pirate", chunk_chars=5,
                  snapshot_delay=0.01, avatar="rex/portrait.webp"),
    FakeCharacter(id="ada", name="Ada", greeting="Hello, I am Ada.", style="librarian", chunk_chars=5,
                  snapshot_delay=0.01),
]  # fmt: skip
PRESETS = [
    Preset(name="rex", character_id="rex"),
    Preset(name="styled", character_id="rex", display_name="Rex the Bold", avatar_url=REX_AVATAR),
    Preset(name="crowd", character_id="ada", scope="user"),
    Preset(name="everything", character_id="ada", trigger="all"),
]


REAL_TIME = ("ack_deadline", "interaction_token_ttl")


def fake_config(**overrides: Any) -> FakeDiscordConfig:
    """Discord's rate-limit windows at SCALE. The deadlines Discord sets the bot (3 s to acknowledge an
    interaction, 15 min of token life) stay real: the bot must meet them on a busy machine too; tests that
    need them to run out let the fake's interaction clock jump (``advance_interaction_clock``)."""
    real = FakeDiscordConfig(heartbeat_interval=5.0, **overrides)
    return real.scaled(SCALE).model_copy(update={name: getattr(real, name) for name in REAL_TIME})


@dataclass
class DiscordWorld:
    discord: FakeDiscord
    cai: FakeCharacterAI
    core: Core
    adapter: DiscordAdapter

    async def bind(self, place: str | Channel, preset: str) -> str:
        """Bind a channel or thread (by name) to a preset, as an admin would; returns the conversation key."""
        channel = self.discord.channel(place) if isinstance(place, str) else place
        guild = self.discord.guild.id
        if channel.guild_id is None:
            key = f"discord:dm:{channel.id}"
        elif channel.parent_id is not None:
            key = f"discord:{guild}:{channel.parent_id}/{channel.id}"
        else:
            key = f"discord:{guild}:{channel.id}"
        await self.core.store.put_binding(Binding(conversation=key, preset=preset, bound_by="discord:1"))
        return key

    async def character_said(self, conversation: str, replies: int = 1, who: str = EVERYONE) -> str:
        """What the character answered last in a conversation, as the fake Character.AI has it, once the
        bridge has received ``replies`` complete replies there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10.0
        while True:
            record = await self.core.store.get_conversation(conversation, who)
            if record is not None and record.message_count >= 2 * replies:
                break
            assert loop.time() < deadline, f"no complete reply in {conversation}"
            await asyncio.sleep(0.01)
        chat_id = await self.core.store.get_chat_id(conversation, who)
        assert chat_id is not None, f"no upstream chat for {conversation}"
        turn = self.cai.chat(chat_id).turns[-1]
        assert not turn.is_human
        return turn.text()

    def replies(self, channel: str | Channel, after: StoredMessage | None = None) -> list[StoredMessage]:
        """The bridge's messages (the bot's own and its webhooks') in a channel, oldest first."""
        found = self.discord.messages_in(channel)
        if after is not None:
            found = [m for m in found if m.id > after.id]
        humans = {u.id for u in self.discord.world.users.values() if not u.bot}
        return [m for m in found if m.author_id not in humans]

    async def until(self, found: Callable[[], T | None], seconds: float = 10.0) -> T:
        """What ``found`` returns once it is something (re-checked on every change of the fake Discord)."""
        result = await self.discord.wait_for(found, timeout=seconds)
        assert result is not None
        return result

    async def wait_for_text(self, channel: str | Channel, text: str) -> StoredMessage:
        """The bridge's message in ``channel`` that shows exactly ``text`` (waits for it)."""
        return await self.until(lambda: next((m for m in self.replies(channel) if m.content == text), None))

    async def dm_with(self, user: str) -> Channel:
        return await self.until(lambda: self.discord.dm_channel(user))

    def channel_key(self, name: str) -> str:
        return f"discord:{self.discord.guild.id}:{self.discord.channel(name).id}"


def discord_pacing(**webhook: float) -> dict[str, dict[str, float]]:
    """The bridge's Discord pacing at SCALE, with ``webhook`` overrides for the characters' webhooks."""
    return {
        "channel": scaled_pacing(PacingPolicy.discord_channel(), SCALE),
        "webhook": {**scaled_pacing(PacingPolicy.discord_webhook(), SCALE), **webhook},
    }


async def open_world(
    tmp_path: Path, *, default_preset: str | None = "rex", fake: FakeDiscordConfig | None = None, **discord: Any
) -> DiscordWorld:
    cai = FakeCharacterAI(characters=CHARACTERS, seed=1)
    await cai.start()
    server = FakeDiscord(fake or fake_config())
    await server.start()
    discord_settings: dict[str, Any] = {
        "token": TOKEN,
        "api_base": server.api_base,
        "gateway_url": server.gateway_url,
        "guild_ids": [server.guild.id],
        "interaction_defer_after": 0.05,
        "guild_ready_timeout": 0.2,  # the fake sends every GUILD_CREATE right after READY
        "pacing": discord_pacing(),
        **discord,
    }
    settings = bridge_settings(cai, tmp_path, PRESETS, default_preset, discord=discord_settings)
    core = await start_core(settings)
    adapter = DiscordAdapter(settings, core.door)
    await adapter.start()
    return DiscordWorld(server, cai, core, adapter)


async def close_world(world: DiscordWorld) -> None:
    await world.adapter.stop()
    await world.core.close()
    await world.discord.stop()
    await world.cai.stop()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DiscordWorld]:
    opened = await open_world(tmp_path)
    yield opened
    await close_world(opened)
