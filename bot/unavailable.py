"""What users are told while the state store cannot be reached (``StoreUnavailable``), and how often.

A store outage is never silence: the door answers a message it could not handle with a short "temporarily
unavailable" notice. But a busy group would get one per message, so each conversation hears it at most once per
``every`` seconds; the messages in between are skipped (``Skip`` carrying the notice, which adapters that must
answer every request, an HTTP call or a slash command, give anyway). Who was told is kept in memory: the store
is the thing that is down.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.models import ReplyError

STORE_DOWN_CODE = "store_unavailable"
STORE_DOWN_TEXT = "Temporarily unavailable; please try again in a moment."

# For replies already under way when the store went (no Retry-After: the HTTP API adds its own).
STORE_DOWN = ReplyError(code=STORE_DOWN_CODE, message=STORE_DOWN_TEXT)


class OutageNotices:
    """``every``: seconds between two notices in one conversation; ``retry_after``: the seconds a client is asked
    to wait (the HTTP API's Retry-After); ``clock``: monotonic seconds."""

    def __init__(self, every: float = 30.0, retry_after: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self.retry_after = retry_after
        self._clock = clock
        self._told: dict[str, float] = {}  # conversation -> when it was told, oldest first

    @property
    def reply(self) -> ReplyError:
        return STORE_DOWN.model_copy(update={"retry_after": self.retry_after})

    def due(self, conversation: str) -> bool:
        """True when the conversation should be told now (and from now on counts as told)."""
        now = self._clock()
        while self._told:  # forget the conversations told longer ago than the window (oldest first)
            oldest, at = next(iter(self._told.items()))
            if now - at < self.every:
                break
            del self._told[oldest]
        if conversation in self._told:
            return False
        self._told[conversation] = now
        return True
