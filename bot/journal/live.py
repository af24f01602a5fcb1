"""Journaling a reply while it is written: open before it starts, the platform messages and the text as they come,
closed once it has ended on screen."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal

from bot.models import ReplyEvent, ReplyFinal, ReplyRecord, ReplySnapshot, ReplyTarget
from bot.ports import ReplyJournal
from bot.relay import Budgets, Clock, LoopClock, PacingPolicy, RelayResult, ReplySink, relay_reply
from bot.relay.inbox import with_notice
from bot.relay.sink import Handle

log = logging.getLogger("charbridge.journal")

ReplyKind = Literal["reply", "regenerate"]


@dataclass(frozen=True)
class JournalOptions:
    text_interval: float = 1.0  # seconds between two writes of a streaming reply's text
    recovery_wait: float = 30.0  # at start: how long to wait for the backend to finish an interrupted turn
    recovery_poll: float = 2.0  # and how often to look at its history meanwhile
    recovery_attempts: int = 3  # starts that may try to finish one reply before it is given up
    history_turns: int = 20  # turns of history searched for the answer


@dataclass(frozen=True)
class Place(Generic[Handle]):
    """Where an adapter writes a reply: its own name (``owner``, the one that recovers the reply), the target, how
    a message handle is written down (``encode``: text it can read back after a restart) and its own notes."""

    owner: str
    target: ReplyTarget
    encode: Callable[[Handle], str]
    render: Mapping[str, str] = field(default_factory=dict)


class Tracker:
    """One journal entry's progress, written through to the store. A store that fails is logged and the reply goes
    on (a reply matters more than its journal entry)."""

    def __init__(self, store: ReplyJournal, record: ReplyRecord, text_interval: float, clock: Clock) -> None:
        self.record = record
        self.parts = list(record.parts)
        self.text = record.text
        self.final = record.final
        self._store = store
        self._interval = text_interval
        self._clock = clock
        self._saved_at = float("-inf")
        self._lock = asyncio.Lock()
        self._failed = False  # logged once per reply

    @property
    def reply_id(self) -> str:
        return self.record.reply_id

    async def open(self) -> None:
        await self._step("open", lambda: self._store.open_reply(self.record))

    async def seen(self, event: ReplyEvent) -> None:
        """An event on its way to the relay: the text (now and then), the ending (always)."""
        if isinstance(event, ReplySnapshot):
            self.text = event.text
            if self._clock.now() - self._saved_at >= self._interval:
                await self.save()
            return
        self.text = event.text if isinstance(event, ReplyFinal) else with_notice(self.text, event)
        self.final = True
        await self.save()

    async def posted(self, handle: str) -> None:
        """A new platform message of the reply (written down with the text it is part of)."""
        self.parts.append(handle)
        await self.save()
        log.debug("reply %s: %d message(s) journaled", self.reply_id, len(self.parts))

    async def settle(self, ending: str) -> None:
        """Decide how the reply ends, before showing it."""
        self.text, self.final = ending, True
        await self.save()

    async def save(self) -> None:
        """Write the whole progress (so one that failed is made good by the next)."""
        async with self._lock:
            self._saved_at = self._clock.now()
            parts, text, final = list(self.parts), self.text, self.final
            await self._step("note", lambda: self._store.note_reply(self.reply_id, parts, text, final))

    async def close(self) -> None:
        await self._step("close", lambda: self._store.close_reply(self.reply_id))

    async def _step(self, what: str, call: Callable[[], Awaitable[object]]) -> None:
        try:
            await call()
        except Exception as exc:
            if not self._failed:
                log.error("the reply journal failed (%s of %s): %s; the reply goes on", what, self.reply_id, exc)
            self._failed = True

    async def watch(self, events: AsyncIterator[ReplyEvent]) -> AsyncIterator[ReplyEvent]:
        """The events, each seen on its way."""
        try:
            async for event in events:
                await self.seen(event)
                yield event
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()


class TrackedSink(Generic[Handle]):
    """A platform sink whose new messages the journal learns as soon as the platform has them."""

    def __init__(self, inner: ReplySink[Handle], tracker: Tracker, encode: Callable[[Handle], str]) -> None:
        self._inner = inner
        self._tracker = tracker
        self._encode = encode

    @property
    def destination(self) -> str:
        return self._inner.destination

    @property
    def max_length(self) -> int:
        return self._inner.max_length

    async def send(self, text: str, *, final: bool) -> Handle:
        handle = await self._inner.send(text, final=final)
        await self._tracker.posted(self._encode(handle))
        return handle

    async def edit(self, handle: Handle, text: str, *, final: bool) -> None:
        await self._inner.edit(handle, text, final=final)

    async def typing(self) -> None:
        await self._inner.typing()


@dataclass(frozen=True)
class ReplyTicket:
    """A reply to be written, handed out by the door with its ``Stream`` plan: ``relay`` journals it while it is
    relayed (and an adapter that keeps no platform messages, like the HTTP API, just reads the events)."""

    store: ReplyJournal
    run: str
    reply_id: str
    conversation: str
    who: str
    preset: str
    kind: ReplyKind
    prompt: str
    options: JournalOptions = field(default_factory=JournalOptions)
    clock: Clock = field(default_factory=LoopClock)

    async def relay(
        self,
        events: AsyncIterator[ReplyEvent],
        sink: ReplySink[Handle],
        policy: PacingPolicy,
        budgets: Budgets,
        place: Place[Handle],
        *,
        shared: str | None = None,
    ) -> RelayResult[Handle]:
        """``relay_reply``, journaled: the entry is open before the first event is asked for (so before the backend
        is), and closed once the relay has shown how the reply ended. A cancelled or crashed relay leaves it open,
        for the next start to finish."""
        record = ReplyRecord(
            reply_id=self.reply_id, owner=place.owner, run=self.run, conversation=self.conversation, who=self.who,
            preset=self.preset, kind=self.kind, prompt=self.prompt, target=place.target, render=dict(place.render),
        )  # fmt: skip
        tracker = Tracker(self.store, record, self.options.text_interval, self.clock)
        await tracker.open()
        result = await relay_reply(
            tracker.watch(events), TrackedSink(sink, tracker, place.encode), policy, budgets, shared=shared
        )
        await tracker.close()
        return result
