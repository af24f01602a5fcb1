"""The two naive ways bots stream replies into Telegram today, to compare our relay against.

Both read the reply events in order, send the first text as a new message, edit it as the text grows and
finish with the final text. Like the bots they stand for, neither shares a budget between replies: each
reply only reacts to its own 429s, by sleeping ``retry_after`` inline.

* ``EveryInterval`` edits with the newest text at most once per ``interval`` (typically 1 s); on a 429 it
  sleeps ``retry_after`` and retries the same edit.
* ``EveryNewChars`` edits once the text has grown by a cutoff that depends on the chat kind and on how
  long the message already is (chatgpt-telegram-bot style: 15/25/45/90 characters in private chats,
  50/90/120/180 in groups); on a 429 it sleeps ``retry_after``, raises its cutoff by 5 and skips that edit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.models import ReplyError, ReplyEvent, ReplySnapshot
from bot.relay import NotModified, RateLimited, ReplySink, error_notice

log = logging.getLogger(__name__)

T = TypeVar("T")

PRIVATE_CUTOFFS = ((1000, 90), (200, 45), (50, 25), (0, 15))  # (shown length above, characters to wait for)
GROUP_CUTOFFS = ((1000, 180), (200, 120), (50, 90), (0, 50))
CUTOFF_STEP_ON_429 = 5


class Streamer(Protocol):
    """Shows one reply's events in one chat through the sink."""

    async def stream(self, events: AsyncIterator[ReplyEvent], sink: ReplySink[int], *, group: bool) -> None: ...


async def _retrying(call: Callable[[], Awaitable[T]], attempts: int) -> T | None:
    """Call until it gets through, sleeping ``retry_after`` after each 429; None after ``attempts`` 429s."""
    for _ in range(attempts):
        try:
            return await call()
        except RateLimited as limited:
            await asyncio.sleep(limited.retry_after)
    log.error("gave up a call after %d rate limits", attempts)
    return None


async def _edit(sink: ReplySink[int], handle: int, text: str, *, final: bool) -> bool:
    with contextlib.suppress(NotModified):  # the message already shows it
        await sink.edit(handle, text, final=final)
    return True


async def _typing_once(sink: ReplySink[int]) -> None:
    with contextlib.suppress(RateLimited):
        await sink.typing()


def _text_of(event: ReplyEvent) -> str:
    return error_notice(event) if isinstance(event, ReplyError) else event.text


class _Reply:
    """One message being streamed: what it shows, and the final update that must get through."""

    def __init__(self, sink: ReplySink[int], attempts: int) -> None:
        self.sink, self.attempts = sink, attempts
        self.handle: int | None = None
        self.shown = ""

    async def send(self, text: str) -> bool:
        self.handle = await _retrying(lambda: self.sink.send(text, final=False), self.attempts)
        self.shown = text
        return self.handle is not None

    async def edit(self, text: str, *, final: bool) -> None:
        """Edit until it gets through (or ``attempts`` 429s)."""
        handle = self.handle
        assert handle is not None
        await _retrying(lambda: _edit(self.sink, handle, text, final=final), self.attempts)
        self.shown = text

    async def finish(self, text: str) -> None:
        if self.handle is None:
            self.handle = await _retrying(lambda: self.sink.send(text, final=True), self.attempts)
        elif text != self.shown:
            await self.edit(text, final=True)


@dataclass(frozen=True)
class EveryInterval:
    interval: float = 1.0  # seconds between edits (scaled with the fake's time)
    attempts: int = 50  # 429s in a row before a call is abandoned

    async def stream(self, events: AsyncIterator[ReplyEvent], sink: ReplySink[int], *, group: bool) -> None:
        await _typing_once(sink)
        reply = _Reply(sink, self.attempts)
        loop = asyncio.get_running_loop()
        last_edit = loop.time()
        async for event in events:
            text = _text_of(event)
            if not text.strip():
                continue
            if not isinstance(event, ReplySnapshot):
                await reply.finish(text)
                return
            if reply.handle is None:
                if not await reply.send(text):
                    return
                last_edit = loop.time()
            elif text != reply.shown and loop.time() - last_edit >= self.interval:
                await reply.edit(text, final=False)
                last_edit = loop.time()


@dataclass(frozen=True)
class EveryNewChars:
    attempts: int = 50

    async def stream(self, events: AsyncIterator[ReplyEvent], sink: ReplySink[int], *, group: bool) -> None:
        await _typing_once(sink)
        reply = _Reply(sink, self.attempts)
        backoff = 0
        async for event in events:
            text = _text_of(event)
            if not text.strip():
                continue
            if not isinstance(event, ReplySnapshot):
                await reply.finish(text)
                return
            if reply.handle is None:
                if not await reply.send(text):
                    return
            elif len(text) - len(reply.shown) >= cutoff(len(reply.shown), group=group) + backoff:
                try:
                    await _edit(sink, reply.handle, text, final=False)
                    reply.shown = text
                except RateLimited as limited:
                    backoff += CUTOFF_STEP_ON_429
                    await asyncio.sleep(limited.retry_after)


def cutoff(shown_length: int, *, group: bool) -> int:
    """Characters the text must grow by before the next edit."""
    steps = GROUP_CUTOFFS if group else PRIVATE_CUTOFFS
    return next(chars for above, chars in steps if shown_length > above or above == 0)
