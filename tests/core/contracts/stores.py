"""What the port contract tests share: the store under test (SQLite or Redis) that can be closed and opened again
on the same data, a virtual clock, and polling for what Redis expires on its own clock.

Time is a virtual clock given to both stores, so orderings never depend on real time. Expiry is the one thing
Redis times itself: those tests advance the clock (enough for SQLite) and then poll for the expiry with a
generous timeout (what Redis needs), with TTLs long enough that "not expired yet" holds on a slow machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.ports import StateStore

StoreFactory = Callable[[], StateStore]

SHORT_TTL = 3.0  # seconds; a real wait for Redis, so kept short, but far from a race
POLL_TIMEOUT = 20.0


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class StoreUnderTest:
    """One implementation of the ports, open on a test's data; ``reopen`` closes it and opens a new one on the same
    data (what survives a restart). The fixture closes whichever is open at the end."""

    def __init__(self, factory: StoreFactory) -> None:
        self._factory = factory
        self.store = factory()

    async def reopen(self) -> StateStore:
        await self.store.close()
        self.store = self._factory()
        return self.store

    async def close(self) -> None:
        await self.store.close()


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll until ``condition`` holds; a generous timeout fails the test should it never."""
    # Redis expires keys on its own clock: there is no event to await, so the condition is polled.
    async with asyncio.timeout(POLL_TIMEOUT):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
