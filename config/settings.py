"""Settings models. Every key is documented in ``config/example.toml``.

Values come from (highest first): environment variables (``CHARBRIDGE_`` prefix, ``__`` between sections,
e.g. ``CHARBRIDGE_TELEGRAM__TOKEN``), a ``.env`` file, the TOML file, then the defaults. Secrets (tokens,
keys) are ``SecretStr`` and are meant to come from the environment; they are never required in the TOML.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from backends.characterai.config import CharacterAIConfig
from bot.models import Preset
from bot.relay.policy import PacingPolicy

K = TypeVar("K", bound=str)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BridgeSettings(Section):
    data_dir: Path = Path("data")
    default_preset: str | None = None
    owners: list[str] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    dedupe_ttl: float = Field(default=86400.0, gt=0)
    # After telling a chat it only reads text (a sticker, a photo), stay quiet about media there this long.
    media_notice_seconds: float = Field(default=3600.0, gt=0)
    journal_text_interval: float = Field(default=1.0, gt=0)
    recovery_wait: float = Field(default=30.0, ge=0)
    recovery_poll: float = Field(default=2.0, gt=0)
    recovery_attempts: int = Field(default=3, ge=1)

    @field_validator("owners")
    @classmethod
    def _qualified(cls, owners: list[str]) -> list[str]:
        for owner in owners:
            if ":" not in owner:
                raise ValueError(f"owner {owner!r} must be platform-qualified, like 'telegram:12345'")
        return owners


class StorageSettings(Section):
    backend: Literal["auto", "sqlite", "redis"] = "auto"
    redis_url: SecretStr | None = None
    key_prefix: str = "charbridge:"
    # Reaching Redis: seconds to connect and to get a command's reply; more tries of a failed call, and the
    # seconds between them. After those the store counts as unreachable for that call.
    connect_timeout: float = Field(default=1.0, gt=0)
    command_timeout: float = Field(default=2.0, gt=0)
    retries: int = Field(default=1, ge=0, le=10)
    retry_delay: float = Field(default=0.1, ge=0)
    # SQLite: seconds a call waits for a lock another program holds on the file.
    sqlite_busy_timeout: float = Field(default=5.0, ge=0)
    # While the store is unreachable: each chat hears "temporarily unavailable" at most once per this many
    # seconds, and the HTTP API answers 503 with this Retry-After (seconds).
    outage_notice_every: float = Field(default=30.0, gt=0)
    outage_retry_after: float = Field(default=5.0, gt=0)

    @property
    def uses_redis(self) -> bool:
        return self.backend == "redis" or (self.backend == "auto" and self.redis_url is not None)

    @model_validator(mode="after")
    def _redis_needs_url(self) -> StorageSettings:
        if self.backend == "redis" and self.redis_url is None:
            raise ValueError("backend 'redis' needs storage.redis_url (env CHARBRIDGE_STORAGE__REDIS_URL)")
        return self


class CharacterAISettings(CharacterAIConfig):
    """The Character.AI client's own settings, with the token optional so that a config without
    Character.AI (or with the token still to be set in the environment) validates."""

    token: SecretStr | None = None  # type: ignore[assignment]

    def client_config(self) -> CharacterAIConfig:
        if self.token is None:
            raise ValueError("no Character.AI token: set CHARBRIDGE_CHARACTERAI__TOKEN")
        return CharacterAIConfig.model_validate({name: getattr(self, name) for name in CharacterAIConfig.model_fields})


def _check_pacing(pacing: Mapping[K, Mapping[str, float]], policies: Mapping[K, PacingPolicy]) -> None:
    for kind, overrides in pacing.items():
        try:
            policies[kind].with_overrides(overrides)
        except ValueError as exc:
            raise ValueError(f"pacing.{kind}: {str(exc).splitlines()[0]}") from None


class TelegramSettings(Section):
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    admin_cache_seconds: float = Field(default=60.0, ge=0)
    final_format: Literal["plain", "html"] = "plain"
    pacing: dict[Literal["private", "group"], dict[str, float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _pacing_valid(self) -> TelegramSettings:
        policies: dict[Literal["private", "group"], PacingPolicy] = {
            "private": PacingPolicy.telegram_private(),
            "group": PacingPolicy.telegram_group(),
        }
        _check_pacing(self.pacing, policies)
        return self

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramSettings:
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError("mode 'webhook' needs telegram.webhook_url")
        return self


class DiscordSettings(Section):
    token: SecretStr | None = None
    api_base: str | None = None  # REST base, e.g. https://discord.com/api/v10 (None: discord.py's default)
    gateway_url: str | None = None  # None: ask the REST API, as discord.py does
    guild_ids: list[int] = Field(default_factory=list)  # sync slash commands here at once (else globally)
    admin_role_ids: list[int] = Field(default_factory=list)
    # Discord drops an interaction not acknowledged within 3 s; leave room for the round trip.
    interaction_defer_after: float = Field(default=1.0, ge=0, le=2.5)
    # Seconds to wait at start for the guilds to arrive before the bot counts as ready.
    guild_ready_timeout: float = Field(default=2.0, ge=0)
    pacing: dict[Literal["channel", "webhook"], dict[str, float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _pacing_valid(self) -> DiscordSettings:
        policies: dict[Literal["channel", "webhook"], PacingPolicy] = {
            "channel": PacingPolicy.discord_channel(),
            "webhook": PacingPolicy.discord_webhook(),
        }
        _check_pacing(self.pacing, policies)
        return self


class HttpApiSettings(Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    api_keys: list[SecretStr] = Field(default_factory=list)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    rate_limit_per_minute: int = Field(default=60, gt=0)
    # Seconds of silence on an SSE stream before a keep-alive comment is sent (0: never).
    sse_keepalive_seconds: float = Field(default=15.0, ge=0)
    # Seconds a connection gets to send a request's headers (from connecting, or from the end of the previous
    # response on a kept-alive connection); a client slower than that, or idle that long, is disconnected.
    header_timeout_seconds: float = Field(default=10.0, gt=0)


class Settings(BaseSettings):
    """The whole configuration. Keyword arguments (the parsed TOML file) have the LOWEST priority."""

    model_config = SettingsConfigDict(
        env_prefix="CHARBRIDGE_", env_nested_delimiter="__", env_file=".env", extra="forbid"
    )

    bridge: BridgeSettings = Field(default_factory=BridgeSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    characterai: CharacterAISettings = Field(default_factory=CharacterAISettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    http: HttpApiSettings = Field(default_factory=HttpApiSettings)
    presets: list[Preset] = Field(default_factory=list)

    @model_validator(mode="after")
    def _presets_consistent(self) -> Settings:
        names = [p.name for p in self.presets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"preset names must be unique; repeated: {', '.join(duplicates)}")
        default = self.bridge.default_preset
        if default is not None and default not in names:
            raise ValueError(
                f"bridge.default_preset {default!r} is not one of the presets ({', '.join(names)})"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, dotenv_settings, init_settings

    @property
    def platforms(self) -> list[str]:
        enabled = []
        if self.telegram.token is not None:
            enabled.append("telegram")
        if self.discord.token is not None:
            enabled.append("discord")
        if self.http.enabled:
            enabled.append("http")
        return enabled
