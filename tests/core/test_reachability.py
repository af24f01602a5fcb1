"""The store's reachability: "cannot reach" errors become StoreUnavailable, and the log gets one line when an outage
starts and one when it ends, whatever the number of calls in between and however they overlap."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis

from bot.ports import StoreUnavailable
from bot.store.reachability import Reachability
from bot.store.redis import unreachable

REFUSED = "Error 111 connecting to 127.0.0.1:6390. Connect call failed ('127.0.0.1', 6390)."


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def refused() -> None:
    raise redis.ConnectionError(REFUSED)


async def answered(value: str = "ok") -> str:
    return value


def store_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    assert all(r.exc_info is None for r in caplog.records), "a traceback was logged"
    return [r.getMessage() for r in caplog.records if r.name == "charbridge.store"]


class Halted:
    """A store call that has started and goes on only when told to, then answers or fails."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go = asyncio.Event()

    async def answer(self) -> str:
        self.started.set()
        await self.go.wait()
        return "late"

    async def refuse(self) -> None:
        self.started.set()
        await self.go.wait()
        raise redis.ConnectionError(REFUSED)


async def test_an_outage_is_logged_when_it_starts_and_when_it_ends_and_not_in_between(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    reach = Reachability(unreachable, clock=clock)
    for _ in range(8):
        with pytest.raises(StoreUnavailable, match="cannot be reached: Error 111"):
            await reach.call(refused())
        clock.now += 1
    assert reach.down
    clock.now += 34
    assert await reach.call(answered("back")) == "back"
    assert await reach.call(answered()) == "ok"
    assert not reach.down
    assert store_log(caplog) == [f"state store unreachable: {REFUSED}", "state store reachable again after 42 s"]


async def test_errors_that_are_not_about_reaching_the_store_pass_through_untouched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    reach = Reachability(unreachable, clock=Clock())

    async def bad_reply() -> None:
        raise redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    with pytest.raises(redis.ResponseError):
        await reach.call(bad_reply())
    assert not reach.down and store_log(caplog) == []


async def test_a_call_under_way_when_an_outage_begins_does_not_end_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    reach = Reachability(unreachable, clock=Clock())
    before = Halted()
    under_way = asyncio.create_task(reach.call(before.answer()))
    await before.started.wait()
    with pytest.raises(StoreUnavailable):
        await reach.call(refused())
    before.go.set()
    assert await under_way == "late"  # it was sent before Redis went: no word on Redis now
    assert reach.down
    assert store_log(caplog) == [f"state store unreachable: {REFUSED}"]


async def test_a_call_that_began_in_an_outage_and_fails_after_it_does_not_start_another(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    reach = Reachability(unreachable, clock=Clock())
    with pytest.raises(StoreUnavailable):
        await reach.call(refused())
    during = Halted()
    under_way = asyncio.create_task(reach.call(during.refuse()))
    await during.started.wait()
    assert await reach.call(answered()) == "ok"  # the outage is over
    during.go.set()
    with pytest.raises(StoreUnavailable):
        await under_way  # still an error to its caller, but no new outage
    assert not reach.down
    assert store_log(caplog) == [f"state store unreachable: {REFUSED}", "state store reachable again after 0 s"]
    with pytest.raises(StoreUnavailable):
        await reach.call(refused())  # a fresh failure is a new outage
    assert store_log(caplog)[-1] == f"state store unreachable: {REFUSED}"
