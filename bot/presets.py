"""Presets from the config file merged with presets made by admins (a stored preset wins by name)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.models import Preset
from bot.ports import PresetStore


class PresetCatalog:
    def __init__(self, presets: PresetStore, file_presets: Iterable[Preset]) -> None:
        self._stored = presets
        self._file = {p.name: p for p in file_presets}

    async def get(self, name: str) -> Preset | None:
        stored = await self._stored.get_preset(name)
        return stored if stored is not None else self._file.get(name)

    async def all(self) -> list[Preset]:
        merged = dict(self._file)
        merged.update({p.name: p for p in await self._stored.list_presets()})
        return [merged[name] for name in sorted(merged)]

    def from_file(self, name: str) -> Preset | None:
        return self._file.get(name)
