"""An NPC core on the real wiring (Core: SQLite store, router, in-process room queue) with a backend double."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core import Core
from bot.models import ChatRequest, NpcCharacter, Preset, ReplyTarget
from bot.npc import NpcItem, NpcNotice, NpcReply
from bot.store.sqlite import SqliteStateStore
from config.settings import BridgeSettings, Settings
from tests.door_support import cast_items
from tests.npc.doubles import CastUpstream

GROUP = "telegram:-100"
CAST = [
    NpcCharacter(character_id="ada", name="Ada", avatar_url="https://img.example/ada.png"),
    NpcCharacter(character_id="rex", name="Rex"),
    NpcCharacter(character_id="zora", name="Madame Zora"),
]
_ids = itertools.count(1)


def npc_preset(name: str = "tavern", **options: Any) -> Preset:
    options.setdefault("queue_notice_after", None)
    return Preset(name=name, character_id=CAST[0].character_id, npcs=CAST, **options)


def message(
    text: str,
    user: int = 1,
    *,
    command: str | None = None,
    reply_to: str | None = None,
    mentions: bool = False,
    conversation: str = GROUP,
    dm: bool = False,
) -> ChatRequest:
    number = next(_ids)
    return ChatRequest(
        platform="telegram",
        conversation_id=conversation,
        user_id=f"telegram:{user}",
        user_name=f"User{user}",
        is_dm=dm,
        text=text,
        message_id=f"{conversation}:{number}",
        reply_to_id=reply_to,
        reply_to_bot=reply_to is not None,
        mentions_bot=mentions,
        command=command,
        target=ReplyTarget(platform="telegram", chat=conversation.split(":", 1)[1], reply_to=str(number)),
    )


@dataclass(frozen=True)
class Said:
    speaker: str
    text: str
    scene: bool = False


async def collect(items: AsyncIterator[NpcItem]) -> list[Said | NpcNotice]:
    """Every item, each reply read to its end (as an adapter would, one after the other)."""
    out: list[Said | NpcNotice] = []
    async for item in items:
        if isinstance(item, NpcReply):
            events = [event async for event in item.events]
            last = events[-1]
            out.append(Said(item.speaker.name, last.text if last.kind == "final" else f"error:{last.kind}", item.scene))
        else:
            out.append(item)
    return out


@dataclass
class NpcWorld:
    core: Core
    upstream: CastUpstream
    path: Path

    @property
    def npc(self) -> Any:
        return self.core.npc

    async def ask(self, request: ChatRequest) -> list[Said | NpcNotice]:
        return await collect(cast_items(self.core.door, request))


def open_world(tmp_path: Path, preset: Preset, upstream: CastUpstream | None = None) -> NpcWorld:
    settings = Settings(
        presets=[preset], bridge=BridgeSettings(default_preset=preset.name, data_dir=tmp_path, owners=["telegram:1"])
    )
    upstream = upstream or CastUpstream()
    core = Core(settings, SqliteStateStore(tmp_path / "state.sqlite3"), {"characterai": upstream})
    return NpcWorld(core, upstream, tmp_path)


@pytest.fixture
async def make_world(tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[NpcWorld] = []

    def make(preset: Preset, upstream: CastUpstream | None = None) -> NpcWorld:
        world = open_world(tmp_path, preset, upstream)
        opened.append(world)
        return world

    yield make
    for world in opened:
        await world.core.close()
