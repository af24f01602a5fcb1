"""Arrival order: a ticket taken the moment a platform message arrives (before any await), so requests
of one chat reach their room's worker in the order the platform delivered them, whatever the store
look-ups in between take.

Usage in an adapter, around the whole handling of one message::

    ticket = service.npc.arrive(request)      # synchronous
    try:
        ... await service.npc.reply(request, ticket) ...
    finally:
        ticket.release()

``await ticket.wait()`` returns once every earlier ticket of the same chat is released (the NPC service
releases its ticket as soon as the request is in its room's line). Releasing twice is harmless.
"""

from __future__ import annotations

import asyncio


class Ticket:
    def __init__(self, order: ArrivalOrder, domain: str, before: asyncio.Future[None] | None) -> None:
        self._order = order
        self._domain = domain
        self._before = before
        # Done once this ticket and every earlier one are released.
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._released = False

    async def wait(self) -> None:
        if self._before is not None and not self._before.done():
            await asyncio.shield(self._before)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._before is None or self._before.done():
            self._finish()
        else:
            self._before.add_done_callback(lambda _: self._finish())

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
        self._order.forget(self._domain, self)


class ArrivalOrder:
    """One chain of tickets per domain (a chat). Memory is bounded by the tickets in flight."""

    def __init__(self) -> None:
        self._last: dict[str, Ticket] = {}

    def take(self, domain: str) -> Ticket:
        previous = self._last.get(domain)
        ticket = Ticket(self, domain, previous.done if previous is not None else None)
        self._last[domain] = ticket
        return ticket

    def forget(self, domain: str, ticket: Ticket) -> None:
        if self._last.get(domain) is ticket:
            del self._last[domain]

    def in_flight(self) -> int:
        return len(self._last)
