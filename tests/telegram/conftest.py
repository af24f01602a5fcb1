"""The Telegram world: the real python-telegram-bot in our adapter, the fake Bot API, the fake Character.AI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram.adapter import TelegramAdapter
from bot.core import Core
from bot.models import Preset
from bot.relay import PacingPolicy
from fakes.characterai import FakeCharacter, FakeCharacterAI
from fakes.telegram import FakeTelegram
from tests.bridge_world import bridge_settings, scaled_pacing, start_core

SCALE = 0.05  # Telegram's windows (and our pacing) at 1/20 of real time
# The quiet window of a negative check ("nothing more is sent"): 10 Telegram seconds at the test's scale, longer
# than any pause inside a normal reply (typing every 4.5-5 s, group edits every 3 s). It is not a deadline:
# wait_idle's own timeout stays generous.
QUIET = 10 * SCALE
TOKEN = "7000000001:TEST-TOKEN-NOT-REAL"

CHARACTERS = [
    FakeCharacter(id="ada", name="Ada", greeting="Hello, I am Ada.", style="librarian", chunk_chars=6,
                  snapshot_delay=0.005),
    FakeCharacter(id="rex", name="Rex", greeting="Arr, Rex here.", style="pirate", chunk_chars=6,
                  snapshot_delay=0.005),
]
PRESETS = [
    Preset(name="ada", character_id="ada"),
    Preset(name="rex-per-user", character_id="rex", scope="user"),
    Preset(name="ada-all", character_id="ada", trigger="all"),
]


@dataclass
class TelegramWorld:
    telegram: FakeTelegram
    cai: FakeCharacterAI
    core: Core
    adapter: TelegramAdapter
    data_dir: Path

    async def restart_bridge(self) -> None:
        """Stop the bridge process-equivalent and start a new one on the same data directory."""
        await self.adapter.stop()
        await self.core.close()
        settings = self.core.settings
        self.core = await start_core(settings)
        self.adapter = TelegramAdapter(settings, self.core.door)
        await self.adapter.start()


async def open_world(
    tmp_path: Path,
    default_preset: str | None = "ada",
    storage: dict[str, str] | None = None,
    telegram: dict[str, Any] | None = None,
    characterai: dict[str, Any] | None = None,
    characters: list[FakeCharacter] | None = None,
    presets: list[Preset] | None = None,
    privacy: bool = True,
) -> TelegramWorld:
    """The world; ``telegram``, ``characterai`` and ``storage`` add or replace settings of those sections;
    ``privacy=False`` lets the bot see every group message (as BotFather's /setprivacy Disable does)."""
    cai = FakeCharacterAI(characters=characters or CHARACTERS, seed=1)
    await cai.start()
    fake_telegram = FakeTelegram(time_scale=SCALE)
    fake_telegram.add_bot(TOKEN, "CharBot")
    fake_telegram.set_privacy("CharBot", privacy)
    await fake_telegram.start()
    pacing = {
        "private": scaled_pacing(PacingPolicy.telegram_private(), SCALE),
        "group": scaled_pacing(PacingPolicy.telegram_group(), SCALE),
    }
    settings = bridge_settings(
        cai, tmp_path, presets or PRESETS, default_preset,
        telegram={"token": TOKEN, "base_url": fake_telegram.base_url, "base_file_url": fake_telegram.base_file_url,
                  "pacing": pacing, **(telegram or {})},
        storage=storage or {},
        characterai=characterai or {},
    )  # fmt: skip
    core = await start_core(settings)
    adapter = TelegramAdapter(settings, core.door)
    await adapter.start()
    return TelegramWorld(fake_telegram, cai, core, adapter, tmp_path)


async def close_world(world: TelegramWorld) -> None:
    await world.adapter.stop()
    await world.core.close()
    await world.telegram.stop()
    await world.cai.stop()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[TelegramWorld]:
    opened = await open_world(tmp_path)
    yield opened
    await close_world(opened)
