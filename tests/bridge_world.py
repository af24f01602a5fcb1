"""A whole bridge on fake services: the fake Character.AI, the fake Telegram, our real client and adapters.

Time is scaled: the fakes' rate-limit windows and the bridge's pacing shrink by the same factor, so tests
keep Telegram's and Discord's real proportions while running fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.core import Core
from bot.models import Preset
from bot.relay import PacingPolicy
from charbridge.app import build_upstreams, open_store
from config.settings import Settings
from fakes.characterai import FakeCharacterAI
from sandbox.settings import characterai_section

TIME_FIELDS = (
    "destination_window", "shared_window", "global_window", "min_interval", "max_interval", "typing_interval",
    "retry_delay",
)  # fmt: skip


def scaled_pacing(policy: PacingPolicy, scale: float) -> dict[str, float]:
    """Pacing overrides that shrink every interval of ``policy`` by ``scale``."""
    return {name: getattr(policy, name) * scale for name in TIME_FIELDS}


def bridge_settings(
    cai: FakeCharacterAI,
    data_dir: Path,
    presets: list[Preset],
    default_preset: str | None,
    **sections: Mapping[str, Any],
) -> Settings:
    overrides = dict(sections.pop("characterai", {}))
    return Settings(
        characterai={**characterai_section(cai), **overrides},
        presets=presets,
        bridge={"data_dir": data_dir, "default_preset": default_preset, "owners": ["telegram:1", "discord:1"]},
        **sections,
    )


async def start_core(settings: Settings) -> Core:
    """The bridge's core on the store the settings choose (SQLite in the data directory, or Redis)."""
    core = Core(settings, open_store(settings), build_upstreams(settings))
    await core.start()
    return core
