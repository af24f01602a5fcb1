"""The pool of DM websockets: one generation per socket at a time, timeouts that start when a request is
written, and a drop that fails only the reply in flight on it. The fake counts generations per connection."""

from __future__ import annotations

import asyncio

import pytest

from backends.characterai import CharacterAIBackend
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import ErrorCode, UpstreamError
from fakes.characterai import FakeCharacterAI

from .conftest import ECHO, ConfigFactory, assert_growing, collect, until

FIRST_TOKEN = 3.0  # seconds; every generation below waits most of it before its first chunk
SLOW_START = 0.6 * FIRST_TOKEN

Outcome = tuple[list[ReplySnapshot], list[ReplyFinal]] | BaseException


async def started(make_config: ConfigFactory, **overrides: object) -> CharacterAIBackend:
    backend = CharacterAIBackend(make_config(**{"first_token_timeout": FIRST_TOKEN, **overrides}))
    await backend.start()
    return backend


async def send_all(backend: CharacterAIBackend, texts: list[str]) -> tuple[list[str], list[Outcome]]:
    """One new chat per text, then every text sent at once; the chats and what each send ended with."""
    chats = [(await backend.create_chat(ECHO, with_greeting=False)).chat_id for _ in texts]
    outcomes = await asyncio.gather(
        *(collect(backend.send(chat, ECHO, text)) for chat, text in zip(chats, texts, strict=True)),
        return_exceptions=True,
    )
    return chats, list(outcomes)


def one_generation_per_socket(fake: FakeCharacterAI) -> None:
    counters = fake.counters
    assert counters["dm_generation_overlaps"] == 0, fake.dm_sockets()
    assert counters["dm_generations_peak"] == 1, fake.dm_sockets()


async def test_five_at_once_run_one_per_socket_and_none_times_out(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    fake.configure(generation_overlap="reject")  # a second generation on a socket would be refused
    backend = await started(make_config)
    try:
        fake.inject("delay", target="dm", command="create_and_generate_turn", seconds=SLOW_START, times=5)
        texts = [f"message number {n}" for n in range(1, 6)]
        chats, outcomes = await send_all(backend, texts)
        assert 1 < backend.dm_sockets_open <= backend.config.dm_sockets == 3
    finally:
        await backend.close()
    for outcome, chat, text in zip(outcomes, chats, texts, strict=True):
        assert not isinstance(outcome, BaseException), outcome
        snapshots, finals = outcome
        assert [f.text for f in finals] == [f"Echo: {text}"] == [fake.chat(chat).turns[-1].text()]
        assert_growing(snapshots, finals[0])
    one_generation_per_socket(fake)
    assert fake.counters["dm_generations"] == 5
    assert len(fake.dm_sockets()) == fake.counters["dm_connections"]  # no socket was reset or dropped


async def test_a_queued_request_starts_its_timeout_when_it_is_written(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    backend = await started(make_config, dm_sockets=1)
    try:
        fake.inject("delay", target="dm", command="create_and_generate_turn", seconds=SLOW_START, times=3)
        # the third is written after two slow generations (longer than its first-token timeout)
        _, outcomes = await send_all(backend, ["one", "two", "three"])
    finally:
        await backend.close()
    assert [o[1][0].text if not isinstance(o, BaseException) else o for o in outcomes] == [
        "Echo: one", "Echo: two", "Echo: three"]  # fmt: skip
    one_generation_per_socket(fake)
    assert fake.counters["dm_connections"] == 1


async def test_a_request_waits_for_a_free_socket_only_queue_timeout(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    backend = await started(make_config, dm_sockets=1, queue_timeout=2.0, first_token_timeout=30.0)
    try:
        chats = [(await backend.create_chat(ECHO, with_greeting=False)).chat_id for _ in range(2)]
        fake.inject("stall", target="dm", command="create_and_generate_turn", after_snapshots=1)
        stalled = asyncio.create_task(collect(backend.send(chats[0], ECHO, "stuck")))
        await until(lambda: len(fake.received("dm", "create_and_generate_turn")) == 1)
        with pytest.raises(UpstreamError) as caught:
            await collect(backend.send(chats[1], ECHO, "behind it"))
        assert caught.value.code is ErrorCode.TIMEOUT and "no DM websocket was free within 2s" in caught.value.detail
        assert not stalled.done()
        fake.release_stalls()
        stalled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stalled
        _, finals = await collect(backend.send(chats[1], ECHO, "now"))  # the given-up request's socket was reset
        assert finals[0].text == "Echo: now"
    finally:
        await backend.close()
    assert len(fake.received("dm", "create_and_generate_turn")) == 2  # "behind it" was never written
    one_generation_per_socket(fake)


@pytest.mark.parametrize("sockets", [1, 2])
async def test_a_drop_fails_only_the_reply_in_flight(
    make_config: ConfigFactory, fake: FakeCharacterAI, sockets: int
) -> None:
    backend = await started(make_config, dm_sockets=sockets)
    try:
        fake.inject("drop", target="dm", command="create_and_generate_turn", after_snapshots=2, after_drop="cut")
        texts = ["alpha", "bravo", "charlie", "delta"]
        chats, outcomes = await send_all(backend, texts)
    finally:
        await backend.close()
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], UpstreamError) and failed[0].code is ErrorCode.UNAVAILABLE
    for outcome, chat, text in zip(outcomes, chats, texts, strict=True):
        if not isinstance(outcome, BaseException):
            assert [f.text for f in outcome[1]] == [f"Echo: {text}"] == [fake.chat(chat).turns[-1].text()]
    sent = [m.frame["payload"]["turn"]["candidates"][0]["raw_content"]
            for m in fake.received("dm", "create_and_generate_turn")]  # fmt: skip
    assert sorted(sent) == texts  # each written once: the queued ones after the reconnect (or elsewhere)
    one_generation_per_socket(fake)


async def test_closing_the_client_ends_a_reply_in_flight_at_once(
    make_config: ConfigFactory, fake: FakeCharacterAI
) -> None:
    backend = await started(make_config, recovery_timeout=60.0)
    chat_id = (await backend.create_chat(ECHO, with_greeting=False)).chat_id
    fake.inject("stall", target="dm", command="create_and_generate_turn", after_snapshots=1)
    reading = asyncio.create_task(collect(backend.send(chat_id, ECHO, "never mind")))
    await until(lambda: len(fake.received("dm", "create_and_generate_turn")) == 1)
    await backend.close()
    with pytest.raises(UpstreamError) as caught:
        await asyncio.wait_for(reading, 10)  # no recovery attempt while closing
    assert caught.value.code is ErrorCode.UNAVAILABLE and "closing" in caught.value.detail
    assert fake.received("rest", f"GET /turns/{chat_id}/") == []
