"""Showing that nothing more happens, without waiting on the clock.

For in-memory asyncio code only (futures, events, queues: no sockets, threads or timers): after a fixed number
of event-loop iterations every task that can make progress has made it, so "still waiting" is a fact, not a
guess. This counts loop iterations, never seconds, so a busy machine changes nothing.
"""

from __future__ import annotations

import asyncio

TURNS = 50  # far more iterations than any chain of wake-ups in the code tested this way needs


async def run_ready_tasks(turns: int = TURNS) -> None:
    """Let every task that can run without I/O, a thread or a timer run until it waits."""
    for _ in range(turns):
        await asyncio.sleep(0)
