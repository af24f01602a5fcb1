"""Wiring a bridge from its settings: the store (SQLite or Redis), the backends registered by name, secrets for
log redaction. The ``charbridge`` command and the benches use it; the sandbox is handed it (``WIRING``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bot.errors import StartupError
from bot.models import BackendName
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
            from bot.store.redis import RedisOptions, RedisStateStore

            storage = settings.storage
            assert storage.redis_url is not None
            options = RedisOptions(
                connect_timeout=storage.connect_timeout, command_timeout=storage.command_timeout,
                retries=storage.retries, retry_delay=storage.retry_delay,
            )  # fmt: skip
            return RedisStateStore(storage.redis_url.get_secret_value(), storage.key_prefix, options=options)
        from bot.store.sqlite import SqliteStateStore

        return SqliteStateStore(sqlite_path(settings), busy_timeout=settings.storage.sqlite_busy_timeout)
    except StoreError as exc:
        raise StartupError(str(exc)) from None


# A backend's factory: the backend the settings configure, or None when they leave it out. Each imports its
# backend only when called, so an unused backend's libraries are never loaded.
BackendFactory = Callable[[Settings], Upstream | None]


def _characterai(settings: Settings) -> Upstream | None:
    if settings.characterai.token is None:
        return None
    from backends.characterai.backend import CharacterAIBackend

    return CharacterAIBackend(settings.characterai.client_config())


# Every backend by the name presets use (``Preset.backend``; the names there and here are the same set).
BACKENDS: dict[BackendName, BackendFactory] = {
    "characterai": _characterai,
}


def build_upstreams(settings: Settings) -> dict[str, Upstream]:
    """The configured backends by name; a preset naming one left out answers that it is unavailable."""
    upstreams: dict[str, Upstream] = {}
    for name, factory in BACKENDS.items():
        upstream = factory(settings)
        if upstream is not None:
            upstreams[name] = upstream
        else:
            log.debug("backend %s is not configured", name)
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
