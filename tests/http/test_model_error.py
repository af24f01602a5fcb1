"""A model failure on a healthy Character.AI socket (``neo_error`` with error_code 500) is ``502 MODEL_ERROR``
with the "could not answer" text, not "unavailable"; our real client talks to the fake Character.AI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.characterai import CharacterAIBackend, CharacterAIConfig
from bot.models import Preset
from bot.upstream.base import USER_MESSAGES, ErrorCode
from fakes.characterai import FakeCharacterAI
from tests.http.support import Served, serve

ECHO = "demo_echo"


@dataclass
class Bridge:
    served: Served
    fake: FakeCharacterAI


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    fake = FakeCharacterAI(seed=3, chunk_chars=4)
    await fake.start(host="127.0.0.1", port=0)
    config = CharacterAIConfig(
        token=fake.token, neo_url=fake.neo_url, plus_url=fake.plus_url, dm_ws_url=fake.ws_url,
        room_ws_url=fake.room_ws_url, connect_timeout=5, request_timeout=5, first_token_timeout=5, idle_timeout=5,
    )  # fmt: skip
    try:
        async with serve(tmp_path, CharacterAIBackend(config), presets=[Preset(name="echo", character_id=ECHO)],
                         default_preset="echo") as served:  # fmt: skip
            yield Bridge(served, fake)
    finally:
        await fake.stop()


async def test_a_model_failure_is_502_model_error(bridge: Bridge) -> None:
    api = bridge.served.api
    assert (await api.chat("warm up")).status == 200
    bridge.fake.inject("neo_error", target="dm", command="create_and_generate_turn", error_code=500,
                       comment="internal error")  # fmt: skip
    failed = await api.chat("this one fails")
    assert failed.status == 502
    assert failed.body["error"]["code"] == "MODEL_ERROR"
    assert failed.body["error"]["message"] == USER_MESSAGES[ErrorCode.MODEL]
    assert "could not answer" in failed.body["error"]["message"]
    assert (await api.chat("fine again")).status == 200
    assert bridge.fake.counters["dm_connections"] == 1  # the socket was healthy all along


async def test_a_model_failure_mid_stream_is_a_model_error_event(bridge: Bridge) -> None:
    api = bridge.served.api
    bridge.fake.inject("neo_error", target="dm", command="create_and_generate_turn", error_code=500)
    events = await api.stream("this one fails")
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == "MODEL_ERROR"
    assert events[-1]["error"]["message"] == USER_MESSAGES[ErrorCode.MODEL]
