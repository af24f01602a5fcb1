"""The composition root: picks one implementation per port from the settings and wires the services."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from bot.admin import AdminCommands
from bot.bindings import Bindings
from bot.conversations import ConversationBook
from bot.door import Door
from bot.errors import StartupError
from bot.npc import NpcService
from bot.ports import RoomQueue, StateStore, StoreError
from bot.presets import PresetCatalog
from bot.roomqueue import InProcessRoomQueue
from bot.router import Router
from bot.service import ChatService
from bot.upstream.base import Upstream, UpstreamError
from config.settings import Settings

log = logging.getLogger("charbridge")

SQLITE_FILE = "charbridge.sqlite3"
LOCK_FILE = "charbridge.lock"


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
        from bot.upstream.characterai.backend import CharacterAIBackend

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


class DataDirLock:
    """An exclusive lock on the data directory, so a second copy fails fast instead of fighting the first for
    the Telegram poller and the Character.AI connection."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / LOCK_FILE
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fh = self._path.open("w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise StartupError(
                f"another charbridge is already running with the data directory {self._path.parent}"
            ) from None
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Core:
    """The platform-independent part of a running bridge."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        upstreams: Mapping[str, Upstream],
        queue: RoomQueue | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.upstreams = dict(upstreams)
        self.queue = queue or InProcessRoomQueue()
        self.catalog = PresetCatalog(store, settings.presets)
        self.router = Router(store, self.catalog, settings.bridge.default_preset)
        self.npc = NpcService(store, self.router, self.upstreams, self.queue)
        self.service = ChatService(
            store, self.catalog, self.upstreams, self.queue, self.npc, dedupe_ttl=settings.bridge.dedupe_ttl
        )
        bridge = settings.bridge
        self.admin = AdminCommands(
            store, self.catalog, self.service, self.npc, self.router, self.upstreams, bridge.owners,
            bridge.default_preset,
        )  # fmt: skip
        self.bindings = Bindings(store, self.service)
        book = ConversationBook(store, self.catalog, self.router, self.service, self.bindings)
        self.door = Door(self.service, self.npc, self.router, self.admin, book)

    async def start(self) -> None:
        """Connect the backends. A backend that fails (say, a rejected token) is reported in one line and
        stays in place: its chats then answer users that the character is unavailable."""
        for name, upstream in self.upstreams.items():
            try:
                await upstream.start()
            except UpstreamError as exc:
                log.error("%s backend unavailable: %s", name, exc.detail or exc.code.value)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.service.drain(), timeout=10)
        await self.queue.close()
        for upstream in self.upstreams.values():
            await upstream.close()
        await self.store.close()
