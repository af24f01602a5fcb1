"""Following a reply whose connection dropped mid-stream, in the chat history.

The service goes on generating a turn after the client's socket is gone: a client that looks at the history
finds the turn still growing, then final. So the history is polled every ``recovery_interval`` until the turn
is final and stable (final, with the same candidate and text in two look-ups in a row, since a history may
call a turn final while it still grows), for at most ``recovery_timeout``. Each look-up is reported, so the
caller can show the growth; only a settled turn may become the final reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import log
from backends.characterai.history import HistoryReader
from backends.characterai.wire import Turn
from bot.upstream.base import ErrorCode, UpstreamError


@dataclass(frozen=True)
class Sighting:
    """What one look-up found: whether the request left a trace (``anchored``: the user turn, the turn being
    regenerated...) and the reply turn, once it exists."""

    anchored: bool
    turn: Turn | None = None


@dataclass(frozen=True)
class Observation:
    turn: Turn
    settled: bool  # final and unchanged since the previous look-up: this is the finished reply


Locate = Callable[[list[Turn]], Sighting]  # newest-first turns -> what they say about the request


def reply_to(user_turn_id: str | None, reply_turn_id: str | None) -> Locate:
    """The character turn answering a user turn (or the reply turn, when its id is known)."""

    def locate(turns: list[Turn]) -> Sighting:
        if reply_turn_id:
            known = next((t for t in turns if t.turn_id == reply_turn_id), None)
            if known is not None:
                return Sighting(True, known)
        for index, turn in enumerate(turns):
            if user_turn_id and turn.turn_id == user_turn_id:
                later = reversed(turns[:index])  # the turns after the user's, oldest first
                return Sighting(True, next((t for t in later if not t.author.is_human), None))
        return Sighting(False)

    return locate


def new_candidate(turn_id: str, old_candidate_id: str) -> Locate:
    """A regenerated turn, once its primary candidate is no longer the old one."""

    def locate(turns: list[Turn]) -> Sighting:
        turn = next((t for t in turns if t.turn_id == turn_id), None)
        if turn is None:
            return Sighting(False)
        return Sighting(True, turn if turn.primary.candidate_id != old_candidate_id else None)

    return locate


async def follow(
    config: CharacterAIConfig, history: HistoryReader, chat_id: str, locate: Locate, what: str
) -> AsyncIterator[Observation]:
    """Every look-up that finds the reply, ending with a settled one. Ends early (nothing settled) when
    ``recovery_attempts`` look-ups in a row fail or find no trace of the request; raises UNAVAILABLE after
    ``recovery_timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.recovery_timeout
    misses = 0  # look-ups in a row that failed or found no trace of the request
    previous: tuple[str, str] | None = None
    while True:
        sighting = await _look(history, chat_id, locate)
        if sighting is None or not sighting.anchored:
            misses += 1
            if misses >= config.recovery_attempts:
                log.warning("%s: the request left no trace in the history (or it cannot be read)", what)
                return
        else:
            misses = 0
            turn = sighting.turn
            if turn is not None:
                final = (turn.primary.candidate_id, turn.text) if turn.primary.is_final else None
                settled = final is not None and final == previous
                yield Observation(turn, settled)
                if settled:
                    return
                previous = final
        if loop.time() + config.recovery_interval > deadline:
            raise UpstreamError(
                ErrorCode.UNAVAILABLE,
                f"{what}: the connection dropped mid-reply and the reply was not finished within "
                f"{config.recovery_timeout:g}s",
            )
        await asyncio.sleep(config.recovery_interval)


async def _look(history: HistoryReader, chat_id: str, locate: Locate) -> Sighting | None:
    try:
        return locate(await history.recent(chat_id))
    except UpstreamError as exc:
        log.warning("history look-up in %s failed: %s", chat_id, exc.detail)
        return None
