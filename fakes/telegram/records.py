"""What the fake remembers about the bot's behaviour, and how tests wait on it without blind sleeps.

Every change (a request, a stored message, an injected update) calls ``notify()``; ``wait_for`` re-checks
its predicate on each notification, so it returns as soon as the condition holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


@dataclass(frozen=True)
class CallRecord:
    t: float  # time.monotonic()
    token: str
    method: str  # as the client spelled it, e.g. "sendMessage"
    params: dict[str, Any]
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class ChatActionRecord:
    t: float
    bot_id: int
    chat_id: int
    action: str
    thread_id: int | None


@dataclass
class CallbackQueryRecord:
    id: str
    bot_id: int
    user_id: int
    data: str
    message_id: int | None
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass(frozen=True)
class DraftRecord:
    t: float
    bot_id: int
    chat_id: int
    draft_id: int
    text: str


@dataclass
class FaultRule:
    """Answer matching calls with an error (and/or a delay) instead of running them."""

    method: str  # lower-case Bot API method name, or "*" for any
    status: int
    description: str
    chat_id: int | None = None
    retry_after: int | float | None = None
    times: int | None = 1  # None = forever
    delay: float = 0.0  # seconds to wait before answering (e.g. past PTB's read timeout)
    hold: bool = False  # wait (after the delay) until release_holds(), then answer
    text: str | None = None  # only calls whose ``text`` parameter is exactly this
    hits: int = 0

    def matches(self, method: str, chat_id: Any, text: Any = None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method not in ("*", method.lower()):
            return False
        if self.text is not None and text != self.text:
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)


class Counters(BaseModel):
    """A snapshot of the request counters (also served at GET /_fake/counters)."""

    requests: dict[str, int]
    statuses: dict[str, int]
    too_many_requests: int
    penalties: int
    too_many_by_chat: dict[str, int]
    penalties_by_chat: dict[str, int]
    conflicts: int
    faults_injected: int


class Recorder:
    """Request log, chat actions, callback answers, drafts, and change notification."""

    def __init__(self) -> None:
        self.call_log: list[CallRecord] = []
        self.chat_action_log: list[ChatActionRecord] = []
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.drafts: list[DraftRecord] = []
        self.faults: list[FaultRule] = []
        self.faults_injected = 0
        self.holds_released = asyncio.Event()  # replaced by a fresh one at each release_holds()
        self.requests_by_method: Counter[str] = Counter()
        self.statuses: Counter[tuple[str, int]] = Counter()
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def record_call(self, record: CallRecord) -> None:
        self.call_log.append(record)
        self.requests_by_method[record.method] += 1
        self.statuses[(record.method, record.status)] += 1
        self.notify()

    def calls(self, method: str | None = None) -> list[CallRecord]:
        if method is None:
            return list(self.call_log)
        wanted = method.lower()
        return [record for record in self.call_log if record.method.lower() == wanted]

    def count(self, method: str, status: int | None = None) -> int:
        return sum(1 for record in self.calls(method) if status is None or record.status == status)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Return the first truthy value of ``predicate()``, re-checked after every change."""
        deadline = time.monotonic() + timeout
        while True:
            event = self._changed
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[CallRecord], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int = 0,
    ) -> CallRecord:
        """The first call to ``method`` (from index ``after`` of the log) that matches ``predicate``."""

        def find() -> CallRecord | None:
            for record in self.call_log[after:]:
                if record.method.lower() == method.lower() and (predicate is None or predicate(record)):
                    return record
            return None

        return await self.wait_for(find, timeout)

    async def wait_quiet(
        self, last_activity: Callable[[], float], quiet: float, timeout: float = 5.0  # noqa: ASYNC109
    ) -> None:
        """Wait until ``quiet`` seconds passed since ``last_activity()`` (a monotonic time)."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            idle_for = now - last_activity()
            if idle_for >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(f"still active after {timeout} s")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(quiet - idle_for, deadline - now))

