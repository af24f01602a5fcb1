"""Faults stay where they happen, through the HTTP API: five API users talk at once (our real Character.AI client
against the fake Character.AI), and every fault the fake can inject is aimed at one user's message. That user's
request ends with the error the API documents for it (or with the recovered reply); the four others stream
exactly their replies, and each of their messages reached Character.AI once. Both with one DM socket (the four
wait behind the faulted request) and with the default pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp_sse_client2 import client as sse_client  # type: ignore[import-untyped]

from adapters.http.errors import REPLY_CODES, STATUS
from backends.characterai import CharacterAIBackend, CharacterAIConfig
from bot.models import Preset
from bot.upstream.base import USER_MESSAGES
from fakes.characterai import DEMO_CHARACTERS, FakeCharacterAI
from tests.fault_cases import (
    CASES,
    POOLS,
    UPSTREAM,
    WAIT,
    FaultCase,
    dm_connections_lost,
    lined_up,
    sent_upstream,
    until,
    upstream_chat_of,
)
from tests.http.support import KEYS, ApiClient, Served, serve

ECHO = next(character for character in DEMO_CHARACTERS if character.id == "demo_echo")
USERS = 5


@asynccontextmanager
async def bridged(
    tmp_path: Path, pool: dict[str, Any]
) -> AsyncIterator[tuple[Served, CharacterAIBackend, FakeCharacterAI]]:
    fake = FakeCharacterAI(seed=5, chunk_chars=4, generation_overlap="reject")  # never two generations on a socket
    await fake.start(host="127.0.0.1", port=0)
    config = CharacterAIConfig.model_validate(
        {"token": fake.token, "neo_url": fake.neo_url, "plus_url": fake.plus_url, "dm_ws_url": fake.ws_url,
         "room_ws_url": fake.room_ws_url, **UPSTREAM, **pool}
    )  # fmt: skip
    presets = [Preset(name="echo", character_id=ECHO.id)]
    backend = CharacterAIBackend(config)
    try:
        async with serve(tmp_path, backend, presets=presets, default_preset="echo") as served:
            yield served, backend, fake
    finally:
        await fake.stop()


async def stream(api: ApiClient, message: str, user: str) -> list[Any]:
    """The events of /api/chat/stream, each checked against the API's document."""
    events: list[Any] = []
    async with asyncio.timeout(WAIT), sse_client.EventSource(
        api.base_url + "/api/chat/stream", option={"method": "POST"}, session=api.session, max_connect_retry=0,
        headers={"Authorization": f"Bearer {KEYS[0]}"}, json={"message": message, "userId": user},
    ) as source:  # fmt: skip
        async for event in source:
            data = api.documented.check_event({"event": event.type or "message", "data": event.data})
            events.append(data)
            if data["type"] in ("end", "error"):
                break
    return events


def streamed(events: list[Any]) -> str | None:
    """The reply a stream delivered: its deltas, which add up to the text of its end event (None otherwise)."""
    if not events or events[-1]["type"] != "end":
        return None
    text = "".join(event["text"] for event in events if event["type"] == "content")
    return text if text == events[-1]["response"] else None


@pytest.mark.parametrize("pool", list(POOLS))
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_a_fault_fails_only_the_request_it_belongs_to(tmp_path: Path, case: FaultCase, pool: str) -> None:
    async with bridged(tmp_path, POOLS[pool]) as (served, backend, fake):
        api = served.api
        users = [f"reader{n}" for n in range(USERS)]
        hellos = [f"hello from {user}" for user in users]  # everybody is already talking with the character
        warm = await asyncio.gather(*(api.chat(text, user=user) for text, user in zip(hellos, users, strict=True)))
        assert [reply.status for reply in warm] == [200] * USERS

        # the fault hits reader0's next message; the four others write while it is in flight
        case.inject(fake, upstream_chat_of(fake, hellos[0]))
        asks = [f"which shelf, {user}?" for user in users]
        faulted = asyncio.create_task(api.chat(asks[0], user=users[0]))
        await until(lambda: asks[0] in sent_upstream(fake))
        others = [asyncio.create_task(stream(api, asks[n], users[n])) for n in range(1, USERS)]
        await until(lambda: lined_up(backend, fake, asks[1:]))
        if case.held:
            fake.release_stalls()
        outcome = await asyncio.wait_for(faulted, WAIT)
        streams = await asyncio.gather(*others)

        replies = {n: ECHO.reply_to(asks[n]) for n in range(USERS)}
        collateral = [n for n, events in enumerate(streams, 1) if streamed(events) != replies[n]]
        assert collateral == [], streams
        expected = case.expected_reply(replies[0])
        if case.outcome is None:
            assert outcome.status == 200 and outcome.body["data"]["response"] == expected, outcome.body
        else:
            error = outcome.body["error"]
            assert (error["reason"], error["message"]) == (case.outcome.value, USER_MESSAGES[case.outcome])
            assert outcome.status == STATUS[error["code"]] and error["code"] == REPLY_CODES.get(
                case.outcome.value, "MODEL_ERROR"
            ), error
        sent = sent_upstream(fake)
        assert [sent.count(text) for text in asks] == [1] * USERS, sent  # each reached Character.AI once
        for n in range(1, USERS):  # ... and the service stored each exchange as the user saw it
            turns = fake.chat(upstream_chat_of(fake, asks[n])).turns
            assert [turn.text() for turn in turns[-2:]] == [asks[n], replies[n]]
        assert fake.counters["dm_generation_overlaps"] == 0, fake.dm_sockets()
        lost = 1 if case.breaks_connection else 0  # the faulted request's own connection, and no other
        await until(lambda: dm_connections_lost(fake) >= lost)
        assert dm_connections_lost(fake) == lost, fake.dm_sockets()
