"""Fixtures: the fake Character.AI server on an ephemeral port, and our client pointed at it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from backends.characterai import CharacterAIBackend, CharacterAIConfig
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import ReplyStream
from fakes.characterai import FakeCharacterAI

ECHO = "demo_echo"
PIRATE = "demo_captain_redbeard"
LIBRARIAN = "demo_ms_marginalia"

# Small windows so failure paths finish fast; generous enough that a loaded machine passes the happy paths.
FAST: dict[str, Any] = {
    "connect_timeout": 5.0,
    "request_timeout": 5.0,
    "first_token_timeout": 5.0,
    "idle_timeout": 5.0,
    "reconnect_initial": 0.01,
    "reconnect_max": 0.05,
    "recovery_attempts": 2,
    "recovery_interval": 0.01,
}

ConfigFactory = Callable[..., CharacterAIConfig]


@pytest.fixture
async def fake() -> AsyncIterator[FakeCharacterAI]:
    server = FakeCharacterAI(seed=7, chunk_chars=4)
    await server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def make_config(fake: FakeCharacterAI) -> ConfigFactory:
    def build(**overrides: Any) -> CharacterAIConfig:
        values: dict[str, Any] = {
            "token": fake.token,
            "neo_url": fake.neo_url,
            "plus_url": fake.plus_url,
            "dm_ws_url": fake.ws_url,
            "room_ws_url": fake.room_ws_url,
            "avatar_url_template": "http://avatars.test/{file}",
            **FAST,
        }
        values.update(overrides)
        return CharacterAIConfig(**values)

    return build


@pytest.fixture
async def backend(make_config: ConfigFactory) -> AsyncIterator[CharacterAIBackend]:
    client = CharacterAIBackend(make_config())
    await client.start()
    try:
        yield client
    finally:
        await client.close()


async def collect(stream: ReplyStream) -> tuple[list[ReplySnapshot], list[ReplyFinal]]:
    snapshots: list[ReplySnapshot] = []
    finals: list[ReplyFinal] = []
    async for event in stream:
        assert not finals, "nothing may follow the final"
        if isinstance(event, ReplyFinal):
            finals.append(event)
        else:
            snapshots.append(event)
    return snapshots, finals


def assert_growing(snapshots: list[ReplySnapshot], final: ReplyFinal) -> None:
    """Cumulative snapshots: each extends the previous one, and the final extends the last."""
    texts = [s.text for s in snapshots] + [final.text]
    for before, after in itertools.pairwise(texts):
        assert after.startswith(before) and len(after) > len(before), (before, after)


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until ``condition()`` holds (re-checked every 10 ms, for at most ``seconds``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
