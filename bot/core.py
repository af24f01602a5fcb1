"""The platform-independent part of a running bridge: the store, the backends and the services on them, wired
once. Adapters get only its ``door``; the composition root (``charbridge.app``) picks the store and backends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from bot.admin import AdminCommands
from bot.bindings import Bindings
from bot.conversations import ConversationBook
from bot.door import Door
from bot.journal import Journal, JournalOptions
from bot.models import Preset
from bot.npc import NpcService
from bot.ports import RoomQueue, StateStore
from bot.presets import PresetCatalog
from bot.roomqueue import InProcessRoomQueue
from bot.router import Router
from bot.service import ChatService
from bot.unavailable import OutageNotices
from bot.upstream.base import Upstream, UpstreamError

log = logging.getLogger("charbridge")


class BridgeOptions(Protocol):
    """What the core reads of the bridge's settings (``config.settings.BridgeSettings`` has it)."""

    @property
    def default_preset(self) -> str | None: ...

    @property
    def owners(self) -> Iterable[str]: ...

    @property
    def dedupe_ttl(self) -> float: ...

    @property
    def media_notice_seconds(self) -> float: ...

    @property
    def journal_text_interval(self) -> float: ...

    @property
    def recovery_wait(self) -> float: ...

    @property
    def recovery_poll(self) -> float: ...

    @property
    def recovery_attempts(self) -> int: ...


class StorageOptions(Protocol):
    """What the core reads of the storage settings: how it answers while the store is unreachable."""

    @property
    def outage_notice_every(self) -> float: ...

    @property
    def outage_retry_after(self) -> float: ...


class CoreSettings(Protocol):
    """What the core reads of the settings (``config.settings.Settings`` has it); the core imports no config."""

    @property
    def presets(self) -> list[Preset]: ...

    @property
    def bridge(self) -> BridgeOptions: ...

    @property
    def storage(self) -> StorageOptions: ...


class Core:
    """The platform-independent part of a running bridge."""

    def __init__(
        self,
        settings: CoreSettings,
        store: StateStore,
        upstreams: Mapping[str, Upstream],
        queue: RoomQueue | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.upstreams = dict(upstreams)
        self.queue = queue or InProcessRoomQueue()
        # Each part takes the narrow ports it touches (``bot.ports``); the one store serves them all.
        self.catalog = PresetCatalog(presets=store, file_presets=settings.presets)
        self.router = Router(
            bindings=store, chats=store, catalog=self.catalog, default_preset=settings.bridge.default_preset
        )
        self.npc = NpcService(
            conversations=store, markers=store, router=self.router, upstreams=self.upstreams, queue=self.queue
        )
        self.service = ChatService(
            conversations=store, markers=store, catalog=self.catalog, upstreams=self.upstreams, queue=self.queue,
            npc=self.npc, dedupe_ttl=settings.bridge.dedupe_ttl,
        )  # fmt: skip
        self.bindings = Bindings(bindings=store, chats=store, audit=store, service=self.service)
        bridge = settings.bridge
        self.admin = AdminCommands(
            presets=store, bindings=store, audit=store, catalog=self.catalog, binder=self.bindings,
            service=self.service, npc=self.npc, router=self.router, upstreams=self.upstreams, owners=bridge.owners,
            default_preset=bridge.default_preset,
        )  # fmt: skip
        book = ConversationBook(
            conversations=store, bindings=store, catalog=self.catalog, router=self.router, service=self.service,
            binder=self.bindings,
        )  # fmt: skip
        options = JournalOptions(
            text_interval=bridge.journal_text_interval, recovery_wait=bridge.recovery_wait,
            recovery_poll=bridge.recovery_poll, recovery_attempts=bridge.recovery_attempts,
        )  # fmt: skip
        self.journal = Journal(store, chats=store, catalog=self.catalog, upstreams=self.upstreams, options=options)
        outage = OutageNotices(settings.storage.outage_notice_every, settings.storage.outage_retry_after)
        self.door = Door(
            self.service, self.npc, self.router, self.admin, book, self.journal, outage,
            media_notice_seconds=bridge.media_notice_seconds,
        )  # fmt: skip

    async def start(self) -> None:
        """Connect the backends. A backend that fails (say, a rejected token) is reported in one line and
        stays in place: its chats then answer users that the character is unavailable."""
        for name, upstream in self.upstreams.items():
            try:
                await upstream.start()
            except UpstreamError as exc:
                log.error("%s backend unavailable: %s", name, exc.detail or exc.code.value)

    async def drain(self) -> None:
        """Wait for replies still running upstream."""
        await self.service.drain()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.service.drain(), timeout=10)
        await self.queue.close()
        for upstream in self.upstreams.values():
            await upstream.close()
        await self.store.close()
