"""A bridge core with admin commands over either state store, a backend that knows a few characters, and a
raw dump of everything the store holds (to prove a refused command changed nothing)."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.admin import AdminCommands, AdminResult
from bot.core import Core
from bot.models import ChatRequest, Preset, ReplyEvent, ReplyTarget
from bot.ports import StateStore
from bot.store.redis import RedisStateStore
from bot.store.sqlite import SqliteStateStore
from bot.upstream.base import CharacterInfo, ErrorCode, UpstreamError
from config.settings import BridgeSettings, Settings
from tests.core.scripted_upstream import ScriptedUpstream
from tests.door_support import plan_events

OWNER = "telegram:1"
ADMIN = "telegram:2"  # the tests pass platform_admin=True for this user
MEMBER = "telegram:3"
GROUP = "telegram:-100"
OTHER_GROUP = "telegram:-200"
REDIS_PREFIX = "admintest:"

FILE_PRESETS = [
    Preset(name="ada", character_id="ada-char", display_name="Ada"),
    Preset(name="kira", character_id="kira-char", scope="user"),
    Preset(name="quiet", character_id="quiet-char", greeting=False),
]
KNOWN_CHARACTERS = {"ada-char", "kira-char", "quiet-char", "nova-char", "zed-char"}

_messages = itertools.count(1)


class CheckedUpstream(ScriptedUpstream):
    """ScriptedUpstream that knows only some characters and can be taken down."""

    def __init__(self, known: set[str]) -> None:
        super().__init__()
        self.known = known
        self.down = False
        self.lookups: list[str] = []

    async def character_info(self, character_id: str) -> CharacterInfo:
        self.lookups.append(character_id)
        if self.down:
            raise UpstreamError(ErrorCode.UNAVAILABLE, "scripted outage")
        if character_id not in self.known:
            raise UpstreamError(ErrorCode.NOT_FOUND, "no such character")
        info = await super().character_info(character_id)
        return info.model_copy(update={"avatar_url": f"https://img.example/{character_id}.png"})


def request(
    user: str = ADMIN,
    conversation: str = GROUP,
    thread: str | None = None,
    dm: bool = False,
    text: str = "hi",
) -> ChatRequest:
    platform = conversation.split(":", 1)[0]
    return ChatRequest(
        platform=platform,
        conversation_id=conversation,
        thread_id=thread,
        user_id=user,
        user_name=user.split(":")[-1],
        is_dm=dm,
        text=text,
        message_id=f"{conversation}:{next(_messages)}",
        mentions_bot=True,
        target=ReplyTarget(platform=platform, chat=conversation.split(":", 1)[1], thread=thread),
    )


async def collect(events: AsyncIterator[ReplyEvent]) -> list[ReplyEvent]:
    return [event async for event in events]


@dataclass
class World:
    core: Core
    admin: AdminCommands
    upstream: CheckedUpstream
    make_store: Callable[[], StateStore]
    dump_raw: Callable[[], dict[str, Any]]
    settings: Settings
    closed: bool = False

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.core.close()

    @property
    def store(self) -> StateStore:
        return self.core.store

    async def run(
        self, args: str, user: str = ADMIN, admin: bool | None = None, command: str = "preset", **where: Any
    ) -> AdminResult:
        """``/<command> <args>`` by ``user``; the platform calls ADMIN an admin unless told otherwise."""
        platform_admin = user == ADMIN if admin is None else admin
        return await self.admin.handle(request(user=user, **where), command, args, platform_admin)

    async def reply(self, user: str = MEMBER, **where: Any) -> list[ReplyEvent]:
        events = await collect(plan_events(self.core.door, request(user=user, **where)))
        await self.core.service.drain()  # the turn is recorded just after the final event
        return events

    def dump(self) -> dict[str, Any]:
        return self.dump_raw()

    async def reopen(self) -> World:
        """Close everything and start a new core on the same data, as a restart would."""
        await self.close()
        return build_world(self.settings, self.make_store, self.dump_raw, self.upstream)


def build_world(
    settings: Settings,
    make_store: Callable[[], StateStore],
    dump_raw: Callable[[], dict[str, Any]],
    upstream: CheckedUpstream | None = None,
    with_backend: bool = True,
) -> World:
    upstream = upstream or CheckedUpstream(set(KNOWN_CHARACTERS))
    core = Core(settings, make_store(), {"characterai": upstream} if with_backend else {})
    return World(core, core.admin, upstream, make_store, dump_raw, settings)


def dump_sqlite(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in tables}


def dump_redis(url: str) -> dict[str, Any]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        dumped: dict[str, Any] = {}
        for key in sorted(client.scan_iter(match=f"{REDIS_PREFIX}*")):
            kind = str(client.type(key))
            readers: dict[str, Callable[[], Any]] = {
                "string": lambda: client.get(key),  # noqa: B023 (called at once, inside the loop)
                "hash": lambda: client.hgetall(key),  # noqa: B023
                "set": lambda: sorted(client.smembers(key)),  # noqa: B023
                "list": lambda: client.lrange(key, 0, -1),  # noqa: B023
                "zset": lambda: client.zrange(key, 0, -1, withscores=True),  # noqa: B023
            }
            dumped[key] = (kind, readers[kind]())
        return dumped
    finally:
        client.close()


@pytest.fixture(params=["sqlite", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        presets=FILE_PRESETS, bridge=BridgeSettings(default_preset="ada", data_dir=tmp_path, owners=[OWNER])
    )


@pytest.fixture
def store_factory(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Callable[[], StateStore], Callable[[], dict[str, Any]]]:
    if store_kind == "sqlite":
        path = tmp_path / "state.sqlite3"
        return (lambda: SqliteStateStore(path)), (lambda: dump_sqlite(path))
    url = str(request.getfixturevalue("redis_url"))
    return (lambda: RedisStateStore(url, prefix=REDIS_PREFIX)), (lambda: dump_redis(url))


@pytest.fixture
async def world(
    settings: Settings, store_factory: tuple[Callable[[], StateStore], Callable[[], dict[str, Any]]]
) -> AsyncIterator[World]:
    built = build_world(settings, *store_factory)
    yield built
    await built.close()
