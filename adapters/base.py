"""What the core expects of a platform adapter, and the registry that builds them by name."""

from __future__ import annotations

import importlib
from typing import Protocol

from bot.door import Door
from config.settings import Settings


class PlatformAdapter(Protocol):
    name: str

    async def start(self) -> None:
        """Connect to the platform and begin handling messages (returns once running)."""

    async def stop(self) -> None: ...


class AdapterFactory(Protocol):
    def __call__(self, settings: Settings, door: Door) -> PlatformAdapter: ...


# Each platform's SDK is imported only when that platform is configured.
ADAPTERS: dict[str, str] = {
    "telegram": "adapters.telegram.adapter:TelegramAdapter",
    "discord": "adapters.discord.adapter:DiscordAdapter",
    "http": "adapters.http.adapter:HttpAdapter",
}


def build_adapter(name: str, settings: Settings, door: Door) -> PlatformAdapter:
    module_name, _, class_name = ADAPTERS[name].partition(":")
    factory: AdapterFactory = getattr(importlib.import_module(module_name), class_name)
    return factory(settings, door)
