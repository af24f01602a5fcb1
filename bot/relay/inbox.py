"""Reads the reply events into the one state the writer needs: the latest text and how it ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from bot.models import ReplyError, ReplyEvent, ReplyFinal, ReplySnapshot
from bot.relay.clock import Clock

log = logging.getLogger(__name__)

ERROR_MARK = "⚠️"
SOURCE_FAILED = ReplyError(code="internal", message="Sorry, something went wrong while writing this reply.")
SOURCE_CANCELLED = ReplyError(code="cancelled", message="This reply was interrupted.")
SOURCE_SILENT = ReplyError(code="timeout", message="The character took too long to answer.")
EMPTY_REPLY = ReplyError(code="empty", message="The character sent an empty reply.")


def error_notice(error: ReplyError) -> str:
    return f"{ERROR_MARK} {error.message}"


def with_notice(partial: str, error: ReplyError) -> str:
    """How a reply that ended with an error ends on screen: what it had written, then the notice."""
    notice = error_notice(error)
    kept = partial.rstrip()
    return f"{kept}\n\n{notice}" if kept.strip() else notice


class Inbox:
    """Keeps only the latest snapshot (older ones are superseded: coalescing happens here)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.text = ""
        self.done = False
        self.error: ReplyError | None = None
        self.ended_at: float | None = None  # when the final or the error arrived
        self.last_event_at = clock.now()
        self.changed = asyncio.Event()

    def target(self) -> tuple[str, bool]:
        """The text the messages should show now, and whether it is the last one."""
        if self.error is not None:
            return with_notice(self.text, self.error), True
        return self.text, self.done

    async def read(self, events: AsyncIterator[ReplyEvent]) -> None:
        """Consume the events until the final or an error; a failing source becomes an error."""
        try:
            async for event in events:
                self.last_event_at = self._clock.now()
                if isinstance(event, ReplySnapshot):
                    self._update(event.text)
                elif isinstance(event, ReplyFinal):
                    self.finish(event.text)
                    return
                else:
                    self.fail(event)
                    return
            self.finish(self.text)  # the source ended without a final: its last snapshot is the reply
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # we are being stopped; the relay decides what to show
            log.warning("the reply source was cancelled")
            self.fail(SOURCE_CANCELLED)
        except Exception:
            log.exception("the reply source failed")
            self.fail(SOURCE_FAILED)
        finally:
            await _close(events)

    def finish(self, text: str) -> None:
        if not self.done:
            if text.strip():
                self._update(text)
                self._end()
            else:
                self.fail(EMPTY_REPLY)

    def fail(self, error: ReplyError) -> None:
        if not self.done:
            self.error = error
            self._end()

    def _update(self, text: str) -> None:
        self.text = text
        self.changed.set()

    def _end(self) -> None:
        self.done = True
        self.ended_at = self._clock.now()
        self.changed.set()


async def _close(events: AsyncIterator[ReplyEvent]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:
        log.debug("closing the reply source failed", exc_info=True)
