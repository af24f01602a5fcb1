"""A whole bridge on the fakes, built fresh for each strategy: the fake Character.AI, the fake Telegram with
flood control on, our Character.AI client, the chat service and the real python-telegram-bot adapter.

Time is scaled: the fake's flood windows, the upstream's streaming delay and every pacing interval shrink by
the same factor, so Telegram's proportions stay real while the run is faster.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.telegram.adapter import TelegramAdapter
from bench.baselines import Streamer
from bot.core import Core
from bot.door import Door
from bot.models import ChatRequest, Preset, ReplyFinal, ReplySnapshot
from bot.plans import Stream
from bot.relay import PacingPolicy
from bot.store.sqlite import SqliteStateStore
from bot.upstream.base import CharacterInfo, HistoryTurn, NewChat, ReplyStream, Upstream
from charbridge.app import build_upstreams
from config.settings import Settings
from fakes.characterai import FakeCharacter, FakeCharacterAI
from fakes.telegram import FakeTelegram

BOT_TOKEN = "7000000001:BENCH-TOKEN-NOT-REAL"
BOT_USERNAME = "BenchBot"
CHARACTER = "bard"
PRESET = Preset(name="bard", character_id=CHARACTER, scope="user")  # one upstream chat per user, even in groups
SCALED_PACING_FIELDS = (
    "destination_window", "global_window", "min_interval", "max_interval", "typing_interval", "retry_delay",
)  # fmt: skip


def scaled_pacing(policy: PacingPolicy, scale: float) -> dict[str, float]:
    """Overrides that shrink every interval of ``policy`` by ``scale``."""
    return {name: getattr(policy, name) * scale for name in SCALED_PACING_FIELDS}


@dataclass(frozen=True)
class UpstreamFinal:
    prompt: str
    text: str
    at: float  # time.monotonic() when the final left the backend


class TimedUpstream:
    """Notes when each reply's final comes out of the Character.AI client, and spreads the work over
    ``backends``: one client opens one DM socket, and the fake (like PyCharacterAI, protocol doc 2.6) runs
    one command at a time per socket, so one client would generate concurrent replies one after another."""

    def __init__(self, backends: list[Upstream]) -> None:
        if not backends:
            raise ValueError("at least one backend")
        self.backends = backends
        self.name = backends[0].name
        self.capabilities = backends[0].capabilities.model_copy(update={"group_rooms": False})  # no rooms here
        self.finals: dict[str, UpstreamFinal] = {}  # by the user's text
        self._busy = dict.fromkeys(range(len(backends)), 0)

    async def start(self) -> None:
        for backend in self.backends:
            await backend.start()

    async def close(self) -> None:
        for backend in self.backends:
            await backend.close()

    async def character_info(self, character_id: str) -> CharacterInfo:
        return await self.backends[0].character_info(character_id)

    async def create_chat(self, character_id: str) -> NewChat:
        with self._least_busy() as backend:
            return await backend.create_chat(character_id)

    async def send(self, chat_id: str, character_id: str, text: str) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
        with self._least_busy() as backend:
            events = backend.send(chat_id, character_id, text)
            try:
                async for event in events:
                    if isinstance(event, ReplyFinal):
                        self.finals[text] = UpstreamFinal(text, event.text, time.monotonic())
                    yield event
            finally:
                aclose = getattr(events, "aclose", None)
                if aclose is not None:
                    await aclose()

    def regenerate(self, chat_id: str, character_id: str) -> ReplyStream:
        return self.backends[0].regenerate(chat_id, character_id)

    async def history(self, chat_id: str, limit: int = 50) -> list[HistoryTurn]:
        return await self.backends[0].history(chat_id, limit)

    @contextmanager
    def _least_busy(self) -> Iterator[Upstream]:
        index = min(self._busy, key=lambda i: self._busy[i])
        self._busy[index] += 1
        try:
            yield self.backends[index]
        finally:
            self._busy[index] -= 1


class BenchAdapter(TelegramAdapter):
    """The product's Telegram adapter; with a ``streamer`` its replies go through that baseline instead of
    the relay. Everything else (polling, normalising, routing, the sink) is the product's own code."""

    def __init__(self, settings: Settings, door: Door, streamer: Streamer | None) -> None:
        super().__init__(settings, door)
        self._streamer = streamer

    async def _stream(self, request: ChatRequest, plan: Stream, policy: PacingPolicy) -> None:
        if self._streamer is None:
            await super()._stream(request, plan, policy)
        else:
            await self._streamer.stream(plan.events, self._sink(request), group=not request.is_dm)


@dataclass
class BenchWorld:
    telegram: FakeTelegram
    cai: FakeCharacterAI
    core: Core
    upstream: TimedUpstream
    adapter: BenchAdapter

    async def close(self) -> None:
        await self.adapter.stop()
        await self.core.close()
        await self.telegram.stop()
        await self.cai.stop()


def _settings(cai: FakeCharacterAI, telegram: FakeTelegram, data_dir: Path, scale: float) -> Settings:
    characterai: dict[str, Any] = {
        "token": cai.token, "neo_url": cai.neo_url, "plus_url": cai.plus_url, "dm_ws_url": cai.ws_url,
        "room_ws_url": cai.room_ws_url, "connect_timeout": 10, "request_timeout": 10,
        "first_token_timeout": 60, "idle_timeout": 60,
    }  # fmt: skip
    pacing = {
        "private": scaled_pacing(PacingPolicy.telegram_private(), scale),
        "group": scaled_pacing(PacingPolicy.telegram_group(), scale),
    }
    telegram_settings = {
        "token": BOT_TOKEN, "base_url": telegram.base_url, "base_file_url": telegram.base_file_url,
        "final_format": "plain", "pacing": pacing,
    }  # fmt: skip
    # model_validate, not Settings(...): the bench must not pick up CHARBRIDGE_* variables or a .env file
    return Settings.model_validate(
        {
            "characterai": characterai,
            "telegram": telegram_settings,
            "presets": [PRESET],
            "bridge": {"data_dir": data_dir, "default_preset": PRESET.name, "log_level": "WARNING"},
        }
    )


async def open_world(
    data_dir: Path,
    *,
    scale: float,
    chunk_chars: int,
    snapshot_delay: float,
    connections: int,
    streamer: Streamer | None,
) -> BenchWorld:
    """Start everything; ``snapshot_delay`` is in real (unscaled) seconds, ``connections`` is how many
    Character.AI clients (DM sockets) share the work."""
    character = FakeCharacter(
        id=CHARACTER, name="The Bard", greeting="Well met, traveller.", chunk_chars=chunk_chars,
        snapshot_delay=snapshot_delay * scale,
    )  # fmt: skip
    cai = FakeCharacterAI(characters=[character], seed=1)
    await cai.start()
    telegram = FakeTelegram(time_scale=scale)
    telegram.add_bot(BOT_TOKEN, BOT_USERNAME)
    await telegram.start()
    settings = _settings(cai, telegram, data_dir, scale)
    upstream = TimedUpstream([build_upstreams(settings)["characterai"] for _ in range(connections)])
    core = Core(settings, SqliteStateStore(data_dir / "state.sqlite3"), {upstream.name: upstream})
    await core.start()
    adapter = BenchAdapter(settings, core.door, streamer)
    await adapter.start()
    return BenchWorld(telegram, cai, core, upstream, adapter)
