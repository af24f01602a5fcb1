"""Bookkeeping of DM connections: how many generations each one carries at once.

Every known client runs one command at a time per socket (doc section 2.6), so a second generation arriving on
a connection while one is still in flight is a client fault. The fake counts it (``dm_generation_overlaps``,
``dm_generations_peak``) and, with ``generation_overlap="reject"``, refuses it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fakes.characterai.wire import JsonDict


@dataclass
class DmLink:
    """One DM websocket as the server sees it."""

    number: int
    user_id: int
    counters: Counter[str]
    in_flight: int = 0
    generations: int = 0
    peak: int = 0
    open: bool = True
    _tickets: set[int] = field(default_factory=set)
    _next_ticket: int = 0

    def begin(self) -> GenerationTicket:
        """A generating command arrived on this connection."""
        self._next_ticket += 1
        self._tickets.add(self._next_ticket)
        self.in_flight += 1
        self.generations += 1
        self.peak = max(self.peak, self.in_flight)
        self.counters["dm_generations"] += 1
        self.counters["dm_generations_peak"] = max(self.counters["dm_generations_peak"], self.in_flight)
        if self.in_flight > 1:
            self.counters["dm_generation_overlaps"] += 1
        return GenerationTicket(self, self._next_ticket, overlapping=self.in_flight > 1)

    def end(self, ticket: int) -> None:
        if ticket in self._tickets:
            self._tickets.discard(ticket)
            self.in_flight -= 1

    def to_wire(self) -> JsonDict:
        return {"socket": self.number, "user_id": self.user_id, "open": self.open, "in_flight": self.in_flight,
                "generations": self.generations, "peak": self.peak}  # fmt: skip


@dataclass
class GenerationTicket:
    """One generation on one connection; ``end`` (idempotent) when the server has finished generating it."""

    link: DmLink | None
    number: int = 0
    overlapping: bool = False

    def end(self) -> None:
        if self.link is not None:
            self.link.end(self.number)


NO_TICKET = GenerationTicket(None)  # commands that generate nothing, and room requests
