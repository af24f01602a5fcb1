"""The room queue: one job at a time per room, in arrival order; different rooms at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.roomqueue import InProcessRoomQueue
from tests.core.idle import run_ready_tasks


async def test_one_job_in_flight_per_room_in_arrival_order() -> None:
    queue = InProcessRoomQueue()
    in_flight: dict[str, int] = {"a": 0, "b": 0}
    most_in_flight: dict[str, int] = {"a": 0, "b": 0}
    order: dict[str, list[int]] = {"a": [], "b": []}

    def job(room: str, n: int) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            in_flight[room] += 1
            most_in_flight[room] = max(most_in_flight[room], in_flight[room])
            await asyncio.sleep(0.001 * (n % 3))  # uneven durations tempt reordering
            order[room].append(n)
            in_flight[room] -= 1
            return n

        return run

    calls = [queue.run(room, job(room, n)) for n in range(30) for room in ("a", "b")]
    results = await asyncio.gather(*calls)

    assert most_in_flight == {"a": 1, "b": 1}
    assert order == {"a": list(range(30)), "b": list(range(30))}
    assert sorted(results) == sorted(list(range(30)) * 2)
    assert queue.pending("a") == 0
    await queue.close()


async def test_different_rooms_run_concurrently() -> None:
    queue = InProcessRoomQueue()
    both_running = asyncio.Event()
    started: set[str] = set()

    def job(room: str) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            started.add(room)
            if len(started) == 2:
                both_running.set()
            # Each room's job can only finish once the other room's job has started too.
            await asyncio.wait_for(both_running.wait(), timeout=5)
            return room

        return run

    assert await asyncio.gather(queue.run("x", job("x")), queue.run("y", job("y"))) == ["x", "y"]
    await queue.close()


async def test_a_failing_job_does_not_stop_the_room() -> None:
    queue = InProcessRoomQueue()

    async def boom() -> None:
        raise ValueError("upstream broke")

    async def fine() -> str:
        return "ok"

    failing = asyncio.ensure_future(queue.run("r", boom))
    following = asyncio.ensure_future(queue.run("r", fine))
    with pytest.raises(ValueError, match="upstream broke"):
        await failing
    assert await following == "ok"
    await queue.close()


async def test_pending_counts_running_and_waiting_jobs() -> None:
    queue = InProcessRoomQueue()
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    tasks = [asyncio.ensure_future(queue.run("r", slow)) for _ in range(3)]
    await run_ready_tasks()  # all three are queued and the first is running
    assert queue.pending("r") == 3
    assert queue.pending("other") == 0
    release.set()
    await asyncio.gather(*tasks)
    assert queue.pending("r") == 0
    await queue.close()
