"""Arrival-order tickets: a later ticket waits for every earlier one, however they are released.

Tickets are in-memory futures, so "still waiting" is shown by letting every runnable task run
(``run_ready_tasks``), not by sleeping."""

from __future__ import annotations

import asyncio

from bot.npc import ArrivalOrder
from tests.core.idle import run_ready_tasks


async def test_tickets_pass_in_arrival_order_whatever_the_release_order() -> None:
    order = ArrivalOrder()
    tickets = [order.take("telegram:-1") for _ in range(4)]
    other_chat = order.take("telegram:-2")
    passed: list[int] = []

    async def pass_through(index: int) -> None:
        await tickets[index].wait()
        passed.append(index)
        tickets[index].release()

    waiting = [asyncio.create_task(pass_through(i)) for i in (3, 2, 1)]
    await other_chat.wait()  # another chat never waits for this one
    await run_ready_tasks()
    assert passed == [] and not any(task.done() for task in waiting)  # all wait for ticket 0
    tickets[0].release()
    await asyncio.gather(*waiting)
    assert passed == [1, 2, 3]
    other_chat.release()
    assert order.in_flight() == 0


async def test_a_released_later_ticket_does_not_let_others_overtake_an_earlier_one() -> None:
    order = ArrivalOrder()
    first, second, third = (order.take("c") for _ in range(3))
    second.release()
    second.release()  # twice is harmless
    waiter = asyncio.create_task(third.wait())
    await run_ready_tasks()
    assert not waiter.done()
    first.release()
    await waiter
    third.release()
    assert order.in_flight() == 0
