"""Per-bot update queue with getUpdates long-poll semantics.

- ``offset`` confirms: updates with ``update_id < offset`` are forgotten; a negative offset keeps only
  the last ``-offset`` updates.
- ``allowed_updates`` persists between calls; updates of other kinds are dropped when met.
- A new getUpdates terminates the one in flight, which answers 409 "terminated by other getUpdates
  request" (that is what real Telegram does to the *older* request).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import CONFLICT_OTHER_POLL, ApiError

# Telegram leaves these out unless they are asked for explicitly
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class _Poll:
    is_alive: Callable[[], bool]
    terminated: bool = False


@dataclass
class UpdateQueue:
    next_update_id: int = 100_000_001
    pending: list[dict[str, Any]] = field(default_factory=list)
    allowed_updates: list[str] | None = None
    conflicts: int = 0
    closed: bool = False  # the server is stopping: long polls end at once
    _active: _Poll | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.pending.append(update)
        self.notify()
        return update

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def confirm(self, offset: int) -> None:
        if offset > 0:
            self.pending = [update for update in self.pending if update["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def close(self) -> None:
        self.closed = True
        self.notify()

    def drop_pending(self) -> None:
        self.pending.clear()

    def ready(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates or ())
        kept = [update for update in self.pending if self._is_allowed(update, allowed)]
        self.pending = kept
        return kept[:limit]

    @staticmethod
    def _is_allowed(update: dict[str, Any], allowed: set[str]) -> bool:
        kind = next(key for key in update if key != "update_id")
        return kind in allowed if allowed else kind not in NOT_DELIVERED_BY_DEFAULT

    @property
    def polling(self) -> bool:
        return self._active is not None

    async def wait_changed(self, seconds: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    async def poll(
        self,
        *,
        offset: int,
        limit: int,
        wait_seconds: float,
        allowed_updates: list[str] | None,
        is_alive: Callable[[], bool],
    ) -> list[dict[str, Any]]:
        if allowed_updates is not None:
            self.allowed_updates = allowed_updates
        previous, ticket = self._active, _Poll(is_alive)
        if previous is not None:
            previous.terminated = True
            if previous.is_alive():
                self.conflicts += 1
        self._active = ticket
        self.notify()
        try:
            self.confirm(offset)
            deadline = time.monotonic() + max(wait_seconds, 0.0)
            while True:
                if ticket.terminated:
                    if not ticket.is_alive():
                        return []  # the client already hung up (e.g. PTB cancelled its poll at shutdown)
                    raise ApiError(409, CONFLICT_OTHER_POLL)
                updates = self.ready(limit)
                remaining = deadline - time.monotonic()
                if updates or remaining <= 0 or self.closed:
                    return updates
                await self.wait_changed(remaining)
        finally:
            if self._active is ticket:
                self._active = None
