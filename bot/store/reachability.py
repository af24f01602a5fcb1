"""Whether the state store can be reached, as its own calls find out, and one log line per outage.

Each store runs its calls through its ``Reachability``: an error the store's ``unreachable`` test recognises (a
refused or timed-out Redis connection, a locked or failing SQLite file) becomes ``StoreUnavailable``, the one
error callers see for it; any other error passes through unchanged. The first such failure logs
"state store unreachable: <reason>" and the first call that succeeds afterwards logs "state store reachable again
after N s"; the failures in between log nothing (no traceback per message).

Calls overlap, so only a call that started in the current state may change it: a call already under way when
an outage began may still succeed, and one that began during an outage may fail after it ended; neither may
end or start an outage by itself, or the log would flap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import update_wrapper
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from bot.ports import StoreUnavailable

log = logging.getLogger("charbridge.store")

T = TypeVar("T")
P = ParamSpec("P")

REASON_CHARS = 200


def describe(exc: BaseException) -> str:
    """The error in one short line (the engines' messages name host and port, never a password)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


class Reachability:
    """``unreachable`` tells the store's "cannot reach" errors from the rest; ``clock`` is monotonic seconds."""

    def __init__(
        self,
        unreachable: Callable[[Exception], bool],
        what: str = "state store",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._unreachable = unreachable
        self._what = what
        self._clock = clock
        self._down_since: float | None = None
        self._era = 0  # counts outages begun and ended: the state a call saw when it started

    @property
    def down(self) -> bool:
        """The last word on the store: its latest call that could tell failed to reach it."""
        return self._down_since is not None

    async def call(self, work: Awaitable[T]) -> T:
        """Await one store call, translating "cannot reach" into StoreUnavailable."""
        era = self._era
        try:
            result = await work
        except Exception as exc:
            if not self._unreachable(exc):
                raise
            reason = describe(exc)
            self._failed(era, reason)
            raise StoreUnavailable(f"the {self._what} cannot be reached: {reason}") from exc
        self._succeeded(era)
        return result

    def _failed(self, era: int, reason: str) -> None:
        if self._down_since is not None or era != self._era:
            return  # already known, or the call began in an outage that has ended since
        self._down_since = self._clock()
        self._era += 1
        log.error("%s unreachable: %s", self._what, reason)

    def _succeeded(self, era: int) -> None:
        if self._down_since is None or era != self._era:
            return  # nothing to end, or the call began before the outage did
        lasted = self._clock() - self._down_since
        self._down_since = None
        self._era += 1
        log.warning("%s reachable again after %.0f s", self._what, lasted)


class Reaching(Protocol):
    @property
    def reachability(self) -> Reachability: ...


S = TypeVar("S", bound=Reaching)


def reached(method: Callable[Concatenate[S, P], Awaitable[T]]) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """A store method whose calls go through the store's ``reachability``."""

    async def through(store: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await store.reachability.call(method(store, *args, **kwargs))

    update_wrapper(through, method)
    return through
