"""Reading a reply off a stream of DM-style frames (DM socket or room pushes), shared by chats and rooms."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from pydantic import ValidationError

from backends.characterai.config import CharacterAIConfig
from backends.characterai.errors import filter_frame, log, neo_error
from backends.characterai.recovery import Observation
from backends.characterai.transport import ConnectionDropped
from backends.characterai.wire import Turn
from bot.models import ReplyFinal, ReplySnapshot
from bot.upstream.base import ErrorCode, UpstreamError

Frame = dict[str, Any]
# the reply's turn id when known -> the history's look-ups of the reply (``recovery.follow``)
Recover = Callable[[str | None], AsyncIterator[Observation]]


def looks_complete(text: str, streamed: str) -> bool:
    """A finished reply that is no longer than what was already streamed was cut with the connection (the
    service stored the part it had sent), so it is not taken as the whole reply."""
    return bool(text) and not (streamed and streamed.startswith(text))


class FrameSource(Protocol):
    """The frames of one request; ``next_frame`` raises ConnectionDropped after a drop."""

    async def next_frame(self, seconds: float, what: str) -> Frame: ...

    def finish(self) -> None:
        """The answer is complete: nothing more will come for this request."""

    def close(self) -> None: ...


def check_frame(frame: Frame, what: str) -> str:
    """The frame's command, or the typed error the frame stands for."""
    command = str(frame.get("command") or "")
    if command == "neo_error":
        raise neo_error(frame, what)
    filtered = filter_frame(command, what)
    if filtered is not None:
        raise filtered
    return command


def frame_turn(frame: Frame) -> Turn | None:
    """The frame's turn; a malformed one is logged and skipped."""
    turn = frame.get("turn")
    if not isinstance(turn, dict):
        return None
    try:
        return Turn.model_validate(turn)
    except ValidationError:
        log.warning("ignoring a %s frame with a malformed turn", frame.get("command"))
        return None


def final_event(turn: Turn, what: str) -> ReplyFinal:
    candidate = turn.primary
    if candidate.safety_truncated:
        if not candidate.raw_content:
            raise UpstreamError(ErrorCode.FILTERED, f"{what}: the reply was filtered (safety_truncated)")
        log.warning("%s: the reply was cut by the safety filter; delivering the part that came", what)
    if not candidate.raw_content:  # the service is fine; its model produced nothing
        raise UpstreamError(ErrorCode.MODEL, f"{what}: the character sent an empty reply")
    return ReplyFinal(text=candidate.raw_content, turn_id=turn.turn_id, speaker=turn.author.name or None)


async def stream_reply(
    config: CharacterAIConfig,
    pending: FrameSource,
    what: str,
    recover: Recover,
    target_turn_id: str | None = None,
) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
    """Cumulative snapshots of the character's turn, then one final. After a drop the reply is followed in
    the history until it is finished there; it is never asked for again."""
    reply_turn_id = target_turn_id
    last_text: str | None = None
    try:
        while True:
            timeout = config.first_token_timeout if last_text is None else config.idle_timeout
            try:
                frame = await pending.next_frame(timeout, what)
            except ConnectionDropped as drop:
                log.warning("%s: %s mid-reply; following the reply in the history", what, drop)
                async for event in _recovered(recover(reply_turn_id), last_text or "", what):
                    yield event
                return
            try:
                command = check_frame(frame, what)
            except UpstreamError:
                pending.finish()
                raise
            turn = frame_turn(frame) if command in ("add_turn", "update_turn") else None
            if turn is None or turn.author.is_human:
                continue
            if target_turn_id is not None and turn.turn_id != target_turn_id:
                continue
            reply_turn_id = turn.turn_id
            if turn.primary.is_final:
                pending.finish()
                yield final_event(turn, what)
                return
            text = turn.text
            if text != (last_text or "") and text:
                yield ReplySnapshot(text=text)
            last_text = text
    finally:
        pending.close()


async def _recovered(
    observations: AsyncIterator[Observation], streamed: str, what: str
) -> AsyncIterator[ReplySnapshot | ReplyFinal]:
    """The growth the history shows, then the settled turn as the one final."""
    shown = streamed
    async for seen in observations:
        text = seen.turn.text
        if seen.settled:
            if not looks_complete(text, streamed):
                raise UpstreamError(
                    ErrorCode.UNAVAILABLE,
                    f"{what}: the connection dropped mid-reply and the history holds only the part already shown",
                )
            log.info("%s: recovered turn %s from the history", what, seen.turn.turn_id)
            yield final_event(seen.turn, what)
            return
        growing = not seen.turn.primary.is_final  # a final text waits for the next look to settle
        if growing and len(text) > len(shown) and text.startswith(shown):
            shown = text
            yield ReplySnapshot(text=text)
    raise UpstreamError(
        ErrorCode.UNAVAILABLE, f"{what}: the connection dropped mid-reply and the reply is not in the history"
    )
