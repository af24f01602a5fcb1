"""The whole sandbox in one event loop: the fake Character.AI with the demo cast, the fake chat platforms,
and the real bridge (core, embedded store, adapters) configured against them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.core import Core
from bot.ports import StateStore
from bot.upstream.base import Upstream
from config.settings import Settings
from fakes.characterai import FakeCharacterAI
from sandbox.demo import SandboxTiming, character_names, demo_characters
from sandbox.discord_side import DiscordSide
from sandbox.platform import ChatRef, SandboxError, SandboxPlatform
from sandbox.settings import TELEGRAM_BOT_NAME, sandbox_settings
from sandbox.telegram_side import TelegramSide

T = TypeVar("T")

log = logging.getLogger("charbridge.sandbox")

PLATFORMS = ("telegram", "discord")


async def forget_upstream_chats(store: StateStore) -> int:
    """A reused data directory remembers upstream chat ids, but the fake Character.AI starts empty every
    time: forget them, so each conversation starts a new chat instead of failing on an unknown one."""
    conversations = {binding.conversation for binding in await store.list_bindings()}
    offset = 0
    while True:
        records, total = await store.list_conversations(limit=100, offset=offset)
        conversations.update(record.conversation for record in records)
        offset += len(records)
        if not records or offset >= total:
            break
    return sum([await store.clear_chat_ids(conversation) for conversation in conversations])


@dataclass(frozen=True)
class Wiring:
    """How a bridge is built from its settings, handed down by the composition root (``charbridge.app``)."""

    open_store: Callable[[Settings], StateStore]
    build_upstreams: Callable[[Settings], dict[str, Upstream]]


class SandboxWorld:
    def __init__(self, data_dir: Path, wiring: Wiring, timing: SandboxTiming | None = None) -> None:
        self.data_dir = data_dir
        self._wiring = wiring
        self._settings: Settings | None = None
        self.timing = timing or SandboxTiming()
        self.characters = demo_characters(self.timing)
        self.names = character_names(self.characters)
        self.cai = FakeCharacterAI(characters=self.characters, seed=1)
        self.platforms: dict[str, SandboxPlatform] = {}
        self._core: Core | None = None
        self._cai_started = False

    @property
    def core(self) -> Core:
        if self._core is None:
            raise RuntimeError("the sandbox is not started")
        return self._core

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("the sandbox is not started")
        return self._settings

    async def start(self) -> None:
        """Start everything; on failure, stop what did start and raise."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        await self.cai.start()
        self._cai_started = True
        telegram = TelegramSide(self.timing)
        self.platforms[telegram.name] = telegram
        telegram_section = await telegram.start_fake()
        discord = DiscordSide(self.timing)
        self.platforms[discord.name] = discord
        discord_section = await discord.start_fake()
        settings = sandbox_settings(self.data_dir, self.cai, self.characters, telegram_section, discord_section)
        self._settings = settings
        store = self._wiring.open_store(settings)
        self._core = Core(settings, store, self._wiring.build_upstreams(settings))
        forgotten = await forget_upstream_chats(store)
        if forgotten:
            log.info("forgot %d upstream chat id(s) from an earlier sandbox run", forgotten)
        await self._core.start()
        for platform in self.platforms.values():
            await platform.start(self._core, settings)

    async def stop(self) -> None:
        """Stop the adapters, the core (draining replies still running) and the fakes; safe to call twice."""
        for platform in self.platforms.values():
            with contextlib.suppress(Exception):
                await platform.stop()
        self.platforms.clear()
        if self._core is not None:
            with contextlib.suppress(Exception):
                await self._core.close()
            self._core = None
        if self._cai_started:
            with contextlib.suppress(Exception):
                await self.cai.stop()
            self._cai_started = False

    def platform(self, name: str) -> SandboxPlatform:
        found = self.platforms.get(name)
        if found is None:
            raise SandboxError(f"unknown platform {name!r}; this sandbox runs: {', '.join(self.platforms)}")
        return found

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float) -> T:  # noqa: ASYNC109
        """The first truthy ``predicate()``, re-checked whenever any platform's fake changes."""
        waits = [asyncio.ensure_future(p.wait_for(predicate, timeout)) for p in self.platforms.values()]
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        return next(iter(done)).result()

    async def speaker(self, chat: ChatRef) -> str:
        """Who the bot speaks as in ``chat`` right now: the character its preset answers with."""
        route = await self.core.router.resolve(self.platform(chat.platform).request_for(chat))
        if route is None:
            return TELEGRAM_BOT_NAME
        preset = route.preset
        return preset.display_name or self.names.get(preset.character_id) or preset.name
