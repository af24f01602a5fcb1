"""The bridge's settings for the sandbox: every URL points at a local fake, every interval is scaled.

The operator's environment and ``.env`` are ignored on purpose: a real token or base URL set there must
never make the sandbox talk to a real service (nor a fake refuse the bridge).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.relay import PacingPolicy
from config.settings import (
    BridgeSettings,
    CharacterAISettings,
    DiscordSettings,
    Settings,
    StorageSettings,
    TelegramSettings,
)
from fakes.characterai import FakeCharacter, FakeCharacterAI
from sandbox.demo import DEFAULT_PRESET, SandboxTiming, demo_presets

TELEGRAM_TOKEN = "1000000001:SANDBOX-NOT-A-REAL-TOKEN"
TELEGRAM_BOT_USERNAME = "CharBridgeBot"
TELEGRAM_BOT_NAME = "charbridge"
DISCORD_TOKEN = "sandbox-discord-NOT-A-REAL-TOKEN"
DISCORD_BOT_USERNAME = "CharBridgeBot"
DISCORD_SERVER_NAME = "Sandbox Server"

# Nothing redelivers messages in the sandbox, and a reused data directory meets the fake Telegram's
# message ids again after a restart: dedupe markers must not outlive a second.
DEDUPE_TTL = 1.0


class SandboxSettings(Settings):
    """``Settings`` built only from the values given here (no environment, no ``.env``)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def characterai_section(cai: FakeCharacterAI) -> dict[str, Any]:
    return {
        "token": cai.token,
        "neo_url": cai.neo_url,
        "plus_url": cai.plus_url,
        "dm_ws_url": cai.ws_url,
        "room_ws_url": cai.room_ws_url,
        "connect_timeout": 5,
        "request_timeout": 10,
        "first_token_timeout": 10,
        "idle_timeout": 10,
        "reconnect_initial": 0.05,
        "reconnect_max": 1.0,
        "recovery_interval": 0.05,
    }


def telegram_section(base_url: str, base_file_url: str, timing: SandboxTiming) -> dict[str, Any]:
    return {
        "token": TELEGRAM_TOKEN,
        "base_url": base_url,
        "base_file_url": base_file_url,
        "admin_cache_seconds": 0,  # `:admin on|off` takes effect with the next command
        "pacing": {
            "private": timing.pacing(PacingPolicy.telegram_private()),
            "group": timing.pacing(PacingPolicy.telegram_group()),
        },
    }


def discord_section(api_base: str, gateway_url: str, guild_id: int, timing: SandboxTiming) -> dict[str, Any]:
    """The real adapter against the fake Discord: slash commands synced to the demo server at once,
    Discord's pacing and the waits for the gateway scaled like everything else."""
    defaults = DiscordSettings()
    return {
        "token": DISCORD_TOKEN,
        "api_base": api_base,
        "gateway_url": gateway_url,
        "guild_ids": [guild_id],
        "interaction_defer_after": defaults.interaction_defer_after * timing.time_scale,
        "guild_ready_timeout": defaults.guild_ready_timeout * timing.time_scale,
        "pacing": {
            "channel": timing.pacing(PacingPolicy.discord_channel()),
            "webhook": timing.pacing(PacingPolicy.discord_webhook()),
        },
    }


def sandbox_settings(
    data_dir: Path,
    cai: FakeCharacterAI,
    characters: list[FakeCharacter],
    telegram: dict[str, Any],
    discord: dict[str, Any],
) -> Settings:
    return SandboxSettings(
        bridge=BridgeSettings(data_dir=data_dir, default_preset=DEFAULT_PRESET, dedupe_ttl=DEDUPE_TTL),
        storage=StorageSettings(backend="sqlite"),
        characterai=CharacterAISettings.model_validate(characterai_section(cai)),
        telegram=TelegramSettings.model_validate(telegram),
        discord=DiscordSettings.model_validate(discord),
        presets=demo_presets(characters),
    )
