"""``Journal``: hands out a ticket for each reply to be written, and at start finishes the replies an earlier run
left open (its ending from the entry, else the backend's settled turn, else an interrupted notice)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol

from bot.journal.live import JournalOptions, ReplyKind, ReplyTicket, TrackedSink, Tracker
from bot.models import ChatRequest, ReplyError, ReplyEvent, ReplyFinal, ReplyRecord
from bot.ports import ChatIdStore, ReplyJournal
from bot.presets import PresetCatalog
from bot.relay import Budgets, Clock, LoopClock, PacingPolicy, ReplySink, relay_reply
from bot.relay.inbox import with_notice
from bot.relay.sink import Handle
from bot.router import Route
from bot.upstream.base import HistoryTurn, Upstream, UpstreamError

log = logging.getLogger("charbridge.journal")

INTERRUPTED = ReplyError(
    code="interrupted",
    message="This reply was interrupted (the bridge restarted). Send your message again, or use /regenerate.",
)


@dataclass(frozen=True)
class Reopened(Generic[Handle]):
    """An adapter's way of writing into a journaled place again: its sink, how it reads a recorded handle back
    (``decode``) and writes a new one down (``encode``), and the pacing to do it under. ``anew``: the messages
    written cannot be edited any more (say, their webhook is gone), so the ending is posted in new ones, at most
    once (the entry is closed first)."""

    sink: ReplySink[Handle]
    decode: Callable[[str], Handle]
    encode: Callable[[Handle], str]
    policy: PacingPolicy
    budgets: Budgets
    shared: str | None = None
    anew: bool = False


class Restorer(Protocol):
    """What an adapter provides to finish its interrupted replies after a restart."""

    @property
    def owner(self) -> str:
        """The ``Place.owner`` it journals its replies under."""
        ...

    async def reopen(self, record: ReplyRecord) -> Reopened[Any] | None:
        """Write where ``record`` was being written (None: nowhere any more, e.g. the channel is gone)."""
        ...


class _NoTrace:
    """The backend's history shows no sign of the request: it never got there."""


NO_TRACE = _NoTrace()


class Journal:
    def __init__(
        self,
        store: ReplyJournal,
        chats: ChatIdStore,
        catalog: PresetCatalog,
        upstreams: Mapping[str, Upstream],
        options: JournalOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.run = uuid.uuid4().hex  # this run of the bridge: its own open replies are alive, not interrupted
        self.options = options or JournalOptions()
        self._store = store
        self._chats = chats
        self._catalog = catalog
        self._upstreams = upstreams
        self._clock = clock or LoopClock()

    def ticket(self, request: ChatRequest, route: Route, kind: ReplyKind) -> ReplyTicket:
        return ReplyTicket(
            store=self._store, run=self.run, reply_id=request.request_id, conversation=route.conversation,
            who=route.who, preset=route.preset.name, kind=kind, prompt=request.text if kind == "reply" else "",
            options=self.options, clock=self._clock,
        )  # fmt: skip

    async def recover(self, restorer: Restorer) -> int:
        """Finish every reply ``restorer`` left open in an earlier run; returns how many were finished. Failures
        are logged (the entry stays open for the next start, up to ``recovery_attempts`` starts)."""
        try:
            records = await self._store.open_replies(restorer.owner)
        except Exception:
            log.exception("cannot read the reply journal of %s", restorer.owner)
            return 0
        earlier = [record for record in records if record.run != self.run]
        if not earlier:
            log.debug("%s: no interrupted reply to finish", restorer.owner)
        else:
            log.info("%s: finishing %d reply(ies) interrupted by a restart", restorer.owner, len(earlier))
        done = await asyncio.gather(*(self._finish_logged(record, restorer) for record in earlier))
        return sum(done)

    async def _finish_logged(self, record: ReplyRecord, restorer: Restorer) -> bool:
        try:
            return await self._finish(record, restorer)
        except Exception:
            log.exception("finishing the interrupted reply %s failed; the next start tries again", record.reply_id)
            return False

    async def _finish(self, found: ReplyRecord, restorer: Restorer) -> bool:
        record = await self._store.claim_reply(found.reply_id)
        if record is None:
            return False  # closed meanwhile
        if record.attempts > self.options.recovery_attempts:
            log.error("giving up the interrupted reply %s after %d attempts", record.reply_id, record.attempts - 1)
            await self._store.close_reply(record.reply_id)
            return False
        reopened = await restorer.reopen(record)
        if reopened is None:
            log.warning("the interrupted reply %s has nowhere to go any more", record.reply_id)
            await self._store.close_reply(record.reply_id)
            return False
        ending, how = await self._ending(record)
        if reopened.anew:
            await self._store.close_reply(record.reply_id)
            result = await relay_reply(_once(ending), reopened.sink, reopened.policy, reopened.budgets)
            log.info("posted the interrupted reply %s anew (%s)", record.reply_id, how)
            return result.delivered
        tracker = Tracker(self._store, record, self.options.text_interval, self._clock)
        await tracker.settle(ending)  # a crash from here on shows the same ending at the next start
        result = await relay_reply(
            _once(ending), TrackedSink(reopened.sink, tracker, reopened.encode), reopened.policy, reopened.budgets,
            shared=reopened.shared, resume=[reopened.decode(part) for part in record.parts],
        )  # fmt: skip
        if not result.delivered:
            log.warning("the interrupted reply %s could not be shown; the next start tries again", record.reply_id)
            return False
        await tracker.close()
        log.info("finished the interrupted reply %s (%s) in %d message(s)", record.reply_id, how, len(result.handles))
        return True

    async def _ending(self, record: ReplyRecord) -> tuple[str, str]:
        """The text the reply ends with, and where it came from."""
        if record.final and record.text.strip():
            return record.text, "from the journal"
        turn = await self._settled_answer(record)
        if turn is not None:
            return turn.text, "from the backend"
        return with_notice(record.text, INTERRUPTED), "interrupted"

    async def _settled_answer(self, record: ReplyRecord) -> HistoryTurn | None:
        """The backend's answer to the request once it is final and the same in two looks in a row (a history may
        call a turn final a moment before it stops growing); None when the request left no trace, or the answer
        is not settled within ``recovery_wait``."""
        preset = await self._catalog.get(record.preset)
        upstream = self._upstreams.get(preset.backend) if preset is not None else None
        chat_id = await self._chats.get_chat_id(record.conversation, record.who)
        if upstream is None or chat_id is None:
            return None
        options = self.options
        deadline = self._clock.now() + options.recovery_wait
        seen: str | None = None
        while True:
            answer = await self._look(upstream, chat_id, record)
            if isinstance(answer, _NoTrace):
                return None
            if answer is not None and answer.final and answer.text.strip():
                if answer.text == seen:
                    return answer
                seen = answer.text
            else:
                seen = None
            if self._clock.now() + options.recovery_poll > deadline:
                return None
            await self._clock.sleep(options.recovery_poll)

    async def _look(self, upstream: Upstream, chat_id: str, record: ReplyRecord) -> HistoryTurn | _NoTrace | None:
        try:
            turns = await upstream.history(chat_id, self.options.history_turns)
        except UpstreamError as exc:
            log.warning("cannot read the history of %s for reply %s: %s", chat_id, record.reply_id, exc)
            return None
        return answer_in(turns, record)


def answer_in(turns: list[HistoryTurn], record: ReplyRecord) -> HistoryTurn | _NoTrace | None:
    """The character's turn answering the journaled request in a history (oldest first): after the newest user turn
    with the request's text (a regeneration: the last turn). None while it has no answer yet."""
    if record.kind == "regenerate":
        if not turns or turns[-1].is_human:
            return NO_TRACE
        return turns[-1]
    prompt = record.prompt.strip()
    for index in range(len(turns) - 1, -1, -1):
        turn = turns[index]
        if turn.is_human and turn.text.strip() == prompt:
            return next((later for later in turns[index + 1 :] if not later.is_human), None)
    return NO_TRACE


async def _once(text: str) -> AsyncIterator[ReplyEvent]:
    yield ReplyFinal(text=text)
