"""In-process room queue: one worker task per busy room drains that room's FIFO."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.ports import RoomQueue

T = TypeVar("T")

_Job = tuple[Callable[[], Awaitable[Any]], "asyncio.Future[Any]"]


class InProcessRoomQueue(RoomQueue):
    def __init__(self) -> None:
        self._queues: dict[str, deque[_Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    async def run(self, room: str, job: Callable[[], Awaitable[T]]) -> T:
        if self._closed:
            raise RuntimeError("room queue is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        # Appending happens synchronously at call time, so arrival order is queue order.
        self._queues.setdefault(room, deque()).append((job, future))
        if room not in self._workers:
            self._workers[room] = asyncio.create_task(self._drain(room), name=f"room:{room}")
        return await future

    def pending(self, room: str) -> int:
        return len(self._queues.get(room, ())) + (1 if room in self._workers else 0)

    async def _drain(self, room: str) -> None:
        queue = self._queues[room]
        try:
            while queue:
                job, future = queue.popleft()
                if future.cancelled():
                    continue
                try:
                    result = await job()
                except asyncio.CancelledError:
                    future.cancel()
                    raise
                except Exception as exc:  # handed to the caller, who decides what the user sees
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result(result)
        finally:
            self._workers.pop(room, None)
            if not queue:
                self._queues.pop(room, None)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._workers.values()):
            task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for queue in self._queues.values():
            for _, future in queue:
                future.cancel()
        self._queues.clear()
