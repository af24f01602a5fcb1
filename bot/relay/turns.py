"""A lock whose waiters are served by priority, then in arrival order."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import IntEnum


class Priority(IntEnum):
    """Who gets a destination's next slot first: nothing shown yet, then an ending reply, then the rest."""

    FIRST_TEXT = 0
    FINAL_TEXT = 1
    UPDATE = 2


class Turns:
    def __init__(self) -> None:
        self._held = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    def busy(self) -> bool:
        """Someone holds the turn or waits for it."""
        return self._held or bool(self._waiters)

    @asynccontextmanager
    async def hold(self, priority: Priority) -> AsyncIterator[None]:
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: Priority) -> None:
        if not self.busy():
            self._held = True
            return
        entry = (int(priority), next(self._arrival), asyncio.get_running_loop().create_future())
        heapq.heappush(self._waiters, entry)
        try:
            await entry[2]  # resolved by _release, which hands the turn over (it stays held)
        except asyncio.CancelledError:
            if entry[2].done() and not entry[2].cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            else:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise

    def _release(self) -> None:
        while self._waiters:
            waiter = heapq.heappop(self._waiters)[2]
            if not waiter.done():
                waiter.set_result(None)
                return
        self._held = False
