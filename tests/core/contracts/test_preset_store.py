"""The PresetStore contract: presets made by admins, by name, kept across restarts."""

from __future__ import annotations

from bot.models import Preset
from bot.ports import PresetStore
from tests.core.contracts.stores import StoreUnderTest


async def test_presets_round_trip_and_survive_reopen(opened: StoreUnderTest) -> None:
    store: PresetStore = opened.store
    kira = Preset(name="kira", character_id="char-1", display_name="Kira", scope="user", pacing={"min": 2.0})
    await store.put_preset(kira)
    await store.put_preset(Preset(name="ada", character_id="char-2"))
    assert await store.get_preset("kira") == kira
    assert [p.name for p in await store.list_presets()] == ["ada", "kira"]

    again: PresetStore = await opened.reopen()
    assert await again.get_preset("kira") == kira
    assert await again.delete_preset("kira") is True
    assert await again.delete_preset("kira") is False
    assert await again.get_preset("kira") is None
    assert [p.name for p in await again.list_presets()] == ["ada"]
