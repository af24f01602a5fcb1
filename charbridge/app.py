"""Wiring a bridge from its settings: the store (SQLite or Redis), the backends registered by name, secrets for
log redaction. The ``charbridge`` command and the benches use it; the sandbox is handed it (``WIRING``)."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.errors import StartupError
from bot.ports import StateStore, StoreError
from bot.upstream.base import Upstream
from config.settings import Settings

log = logging.getLogger("charbridge")

SQLITE_FILE = "charbridge.sqlite3"


def sqlite_path(settings: Settings) -> Path:
    return settings.bridge.data_dir / SQLITE_FILE


def open_store(settings: Settings) -> StateStore:
    """The configured store, its data brought up to date (a StartupError when it cannot be opened)."""
    try:
        if settings.storage.uses_redis:
            from bot.store.redis import RedisStateStore

            assert settings.storage.redis_url is not None
            return RedisStateStore(settings.storage.redis_url.get_secret_value(), settings.storage.key_prefix)
        from bot.store.sqlite import SqliteStateStore

        return SqliteStateStore(sqlite_path(settings))
    except StoreError as exc:
        raise StartupError(str(exc)) from None


def build_upstreams(settings: Settings) -> dict[str, Upstream]:
    upstreams: dict[str, Upstream] = {}
    if settings.characterai.token is not None:
        from backends.characterai.backend import CharacterAIBackend

        upstreams["characterai"] = CharacterAIBackend(settings.characterai.client_config())
    return upstreams


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings, for log redaction."""
    found = [
        settings.characterai.token,
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.discord.token,
        settings.storage.redis_url,
        *settings.http.api_keys,
    ]
    values = [s.get_secret_value() for s in found if s is not None]
    # "Token abc" style values: redact the bare token too.
    return values + [v.split(" ", 1)[1] for v in values if v.startswith("Token ")]


