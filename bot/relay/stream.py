"""``relay_reply``: one reply's events in, paced sends and edits out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic

from bot.models import ReplyEvent
from bot.relay.budget import Budgets
from bot.relay.clock import Clock
from bot.relay.errors import NotModified, RateLimited
from bot.relay.inbox import SOURCE_SILENT, Inbox
from bot.relay.layout import Layout, Update
from bot.relay.policy import PacingPolicy
from bot.relay.sink import Handle, ReplySink
from bot.relay.turns import Priority

log = logging.getLogger(__name__)


@dataclass
class RelayResult(Generic[Handle]):
    handles: list[Handle] = field(default_factory=list)  # every message of the reply, in order
    texts: list[str] = field(default_factory=list)  # what each of them shows at the end
    final_text: str | None = None  # the last text the reply was to show (the final, or partial + error)
    delivered: bool = False  # final_text is fully on screen
    error_code: str | None = None  # set when the reply ended with an error
    sends: int = 0
    edits: int = 0
    rate_limited: int = 0  # 429 answers seen
    not_modified: int = 0
    failures: int = 0  # other errors from the sink
    typing_calls: int = 0
    first_visible_after: float | None = None  # seconds from the start to the first visible text
    final_visible_after: float | None = None  # seconds from the upstream final (or error) to it shown


class _Outcome(Enum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"


async def relay_reply(
    events: AsyncIterator[ReplyEvent],
    sink: ReplySink[Handle],
    policy: PacingPolicy,
    budgets: Budgets,
    *,
    shared: str | None = None,
    resume: Sequence[Handle] = (),
) -> RelayResult[Handle]:
    """Show a reply: the first text as soon as it exists, then paced edits, then the final text (always,
    retrying as needed). Time comes from ``budgets.clock``. ``shared`` names the pool whose
    ``policy.shared_*`` budget every send and edit also takes a slot of (e.g. a Discord channel, whose
    webhooks share one limit). ``resume`` continues a reply whose messages exist already (their text unknown:
    each is edited once), as a restart finishing an interrupted reply does. Cancelling this stops everything,
    typing included, and closes ``events``."""
    relay = _Relay(sink, policy, budgets, shared)
    relay.layout.resume(resume)
    return await relay.run(events)


class _Relay(Generic[Handle]):
    def __init__(
        self, sink: ReplySink[Handle], policy: PacingPolicy, budgets: Budgets, shared: str | None = None
    ) -> None:
        self.sink, self.policy, self.budgets = sink, policy, budgets
        self.clock: Clock = budgets.clock
        self.destination = sink.destination
        self.shared = shared
        self.inbox = Inbox(self.clock)
        self.layout: Layout[Handle] = Layout(sink.max_length)
        self.result: RelayResult[Handle] = RelayResult()
        self.started_at = self.clock.now()
        self.interval = policy.min_interval
        self.last_update_at = float("-inf")
        self.shown_text = ""  # the text of the last complete update
        self.attempts: dict[int, int] = {}  # failed calls per message index
        self.rate_limited_in_a_row = 0
        self.retrying = False  # an update was cut short: redo it as soon as the budget allows
        self.failed = False
        self.typing: asyncio.Task[None] | None = None

    async def run(self, events: AsyncIterator[ReplyEvent]) -> RelayResult[Handle]:
        reader = asyncio.create_task(self.inbox.read(events))
        self.typing = asyncio.create_task(self._keep_typing())
        try:
            await self._write(reader)
        finally:
            await _stop(self.typing, reader)
        return self._finish_result()

    async def _write(self, reader: asyncio.Task[None]) -> None:
        while not self.failed:
            self.inbox.changed.clear()
            text, final = self.inbox.target()
            updates = self.layout.updates(text, final)
            if self.inbox.done:
                await _stop(self.typing)
            if not updates:
                if self.inbox.done:
                    return
                self.retrying = False
                await self._wait_for_events(reader)
                continue
            if self.layout.visible and not self.retrying:
                ready_at = self.last_update_at + self.interval
                if self.clock.now() < ready_at:
                    await self.clock.sleep_until(ready_at)
                    continue  # look again: newer snapshots replace the one we had
                if not self._worth_it(text, final, updates):
                    await self._wait_for_events(reader)
                    continue
            await self._update()

    def _priority(self) -> Priority:
        if not self.layout.visible:
            return Priority.FIRST_TEXT
        return Priority.FINAL_TEXT if self.inbox.done else Priority.UPDATE

    def _worth_it(self, text: str, final: bool, updates: list[Update]) -> bool:
        if final or any(update.send or update.final for update in updates):
            return True  # the end, a new message, or a part to freeze before a split
        if not text.startswith(self.shown_text):
            return True  # the upstream revised what we show
        return len(text) - len(self.shown_text) >= self.policy.min_growth

    async def _wait_for_events(self, reader: asyncio.Task[None]) -> None:
        timeout = self.policy.idle_timeout
        if timeout <= 0 or self.inbox.done:
            await self.inbox.changed.wait()
            return
        deadline = self.inbox.last_event_at + timeout
        waiter = asyncio.create_task(self.inbox.changed.wait())
        timer = asyncio.create_task(self.clock.sleep_until(deadline))
        try:
            await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _stop(waiter, timer)
        if not self.inbox.done and self.clock.now() >= self.inbox.last_event_at + timeout:
            log.warning("no reply event for %.1f s; ending the reply", timeout)
            await _stop(reader)
            self.inbox.fail(SOURCE_SILENT)

    async def _update(self) -> None:
        """One paced update: take a slot, then bring the messages up to the newest text."""
        await self.budgets.acquire(self.destination, self.policy, self._priority(), shared=self.shared)
        text, final = self.inbox.target()  # the newest text, read after the wait for the slot
        updates = self.layout.updates(text, final)
        for number, update in enumerate(updates):
            if number:
                await self.budgets.acquire(self.destination, self.policy, self._priority(), shared=self.shared)
            outcome = await self._apply(update)
            if outcome is not _Outcome.DONE:
                self.retrying = outcome is _Outcome.RETRY
                return
        self.retrying = False
        self.last_update_at = self.clock.now()
        self.shown_text = text
        self.interval = max(self.policy.min_interval, self.interval * self.policy.interval_decay)

    async def _apply(self, update: Update) -> _Outcome:
        try:
            if update.send:
                handle = await self.sink.send(update.text, final=update.final)
                self.layout.applied(update, handle)
                self.result.sends += 1
                if self.result.first_visible_after is None:
                    self.result.first_visible_after = self.clock.now() - self.started_at
                    await _stop(self.typing)
            else:
                await self.sink.edit(self.layout.messages[update.index].handle, update.text, final=update.final)
                self.layout.applied(update)
                self.result.edits += 1
        except NotModified:
            if update.send:  # only an edit can be "not modified": the sink is wrong
                log.error("a sink answered NotModified to a send")
                return await self._failed(update)
            self.layout.applied(update)  # the message already shows it
            self.result.not_modified += 1
        except RateLimited as limited:
            return self._rate_limited(limited, update)
        except Exception:
            log.exception("reply %s of message %d failed", "send" if update.send else "edit", update.index)
            return await self._failed(update)
        self.attempts.pop(update.index, None)
        self.rate_limited_in_a_row = 0
        return _Outcome.DONE

    def _rate_limited(self, limited: RateLimited, update: Update) -> _Outcome:
        self.budgets.block(self.destination, limited.retry_after, is_global=limited.is_global)
        self.result.rate_limited += 1
        self.rate_limited_in_a_row += 1
        self.interval = min(self.policy.max_interval, self.interval * self.policy.backoff_factor)
        if self.rate_limited_in_a_row > self.policy.max_rate_limited:
            log.error("giving up a reply call after %d rate limits in a row", self.rate_limited_in_a_row)
            self.rate_limited_in_a_row = 0
            return self._give_up(update)
        return _Outcome.RETRY

    async def _failed(self, update: Update) -> _Outcome:
        self.result.failures += 1
        tries = self.attempts[update.index] = self.attempts.get(update.index, 0) + 1
        if tries < self.policy.max_attempts:
            await self.clock.sleep(self.policy.retry_delay)
            return _Outcome.RETRY
        return self._give_up(update)

    def _give_up(self, update: Update) -> _Outcome:
        self.attempts.pop(update.index, None)
        if update.send:
            log.error("could not send a reply message to %s; the reply is incomplete", self.destination)
            self.failed = True
            return _Outcome.FAILED
        log.warning("message %d of a reply cannot be edited; continuing in a new message", update.index)
        self.layout.give_up(update)
        return _Outcome.RETRY

    async def _keep_typing(self) -> None:
        while not self.layout.visible and not self.inbox.done:
            # (no typing once text is on its way: the slot is better spent on it)
            if not self.inbox.text.strip() and self.budgets.try_typing(self.destination, self.policy):
                try:
                    await self.sink.typing()
                    self.result.typing_calls += 1
                except RateLimited as limited:
                    self.budgets.block(self.destination, limited.retry_after, is_global=limited.is_global)
                    self.result.rate_limited += 1
                except Exception:
                    log.debug("typing indicator failed", exc_info=True)
            await self.clock.sleep(self.policy.typing_interval)

    def _finish_result(self) -> RelayResult[Handle]:
        result = self.result
        result.handles, result.texts = self.layout.handles(), self.layout.shown_texts()
        if self.inbox.done:
            result.final_text = self.inbox.target()[0]
            result.error_code = self.inbox.error.code if self.inbox.error else None
            result.delivered = not self.failed and not self.layout.updates(result.final_text, True)
            if result.delivered and self.inbox.ended_at is not None:
                result.final_visible_after = max(0.0, self.last_update_at - self.inbox.ended_at)
        return result


async def _stop(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel helper tasks and wait until they are over (a cancellation of our own still propagates)."""
    running = [task for task in tasks if task is not None and not task.done()]
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running)
    for task in running:
        if not task.cancelled() and task.exception() is not None:
            log.error("relay helper task failed", exc_info=task.exception())
