"""An NPC core on the real wiring (Core: SQLite store, router, in-process room queue) with a backend double,
and ways to follow a request's items as they come (tests wait on events, never on sleeps)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core import Core
from bot.models import ChatRequest, NpcCharacter, Preset, ReplyTarget
from bot.npc import NpcItem, NpcNotice, NpcReply, Ticket
from bot.store.sqlite import SqliteStateStore
from config.settings import BridgeSettings, Settings
from tests.door_support import cast_items
from tests.npc.doubles import CastUpstream

GROUP = "telegram:-100"
PATIENCE = 30.0  # the longest a test waits for something that must happen: a bound for a hang, not a pace
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


async def heard(item: NpcItem) -> Said | NpcNotice:
    """A notice as it is; a reply read to its end."""
    if not isinstance(item, NpcReply):
        return item
    events = [event async for event in item.events]
    last = events[-1]
    return Said(item.speaker.name, last.text if last.kind == "final" else f"error:{last.kind}", item.scene)


async def collect(items: AsyncIterator[NpcItem]) -> list[Said | NpcNotice]:
    """Every item, each reply read to its end (as an adapter would, one after the other)."""
    return [await heard(item) async for item in items]


class Listener:
    """Reads one request's items in the background as an adapter would, so a test can wait for the first of
    them while the rest are still to come."""

    def __init__(self, items: AsyncIterator[NpcItem]) -> None:
        self.items: list[Said | NpcNotice] = []
        self._grew = asyncio.Event()
        self._task = asyncio.create_task(self._read(items))

    async def _read(self, items: AsyncIterator[NpcItem]) -> list[Said | NpcNotice]:
        async with contextlib.aclosing(items):  # type: ignore[type-var]  # (an async generator)
            async for item in items:
                self.items.append(await heard(item))
                self._grew.set()
        return self.items

    async def until(self, count: int) -> list[Said | NpcNotice]:
        """The first ``count`` items, as soon as they are there."""
        async with asyncio.timeout(PATIENCE):
            while len(self.items) < count:
                if self._task.done():
                    raise AssertionError(f"only {self._task.result()} came, not {count} items")
                self._grew.clear()
                grew = asyncio.ensure_future(self._grew.wait())
                await asyncio.wait({grew, self._task}, return_when=asyncio.FIRST_COMPLETED)
                grew.cancel()
        return self.items[:count]

    async def result(self) -> list[Said | NpcNotice]:
        """All the items, once the request is over."""
        return await asyncio.wait_for(self._task, PATIENCE)

    async def stop(self) -> None:
        """Stop reading (the request's items need not be over)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@dataclass
class NpcWorld:
    core: Core
    upstream: CastUpstream
    path: Path

    @property
    def npc(self) -> Any:
        return self.core.npc

    def arrive(self, request: ChatRequest) -> Ticket:
        """The request's place in its chat's arrival order, taken as an adapter takes it (synchronously)."""
        return self.core.door.arrive(request.conversation_id)

    def items(self, request: ChatRequest, ticket: Ticket | None = None) -> AsyncIterator[NpcItem]:
        """The request's items through the door, in the order of ``ticket`` (else of a ticket taken now)."""
        return cast_items(self.core.door, request, ticket if ticket is not None else self.arrive(request))

    async def ask(self, request: ChatRequest) -> list[Said | NpcNotice]:
        """Every item of the request. Its ticket is taken before any await, so requests gathered together
        arrive in the order they were started, whatever their look-ups take."""
        return await collect(self.items(request))


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
