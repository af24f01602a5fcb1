"""Streaming a character reply as cumulative snapshots, with the fault hooks that can interrupt it.

A dropped socket does not stop the generation by default: the turn goes on growing on the server, unseen,
and becomes final later (``GET /turns/`` shows ``is_final: false`` meanwhile), as on the real service.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal, Protocol

from fakes.characterai.faults import Fault
from fakes.characterai.state import Candidate, Turn
from fakes.characterai.wire import JsonDict

if TYPE_CHECKING:
    from fakes.characterai.world import FakeWorld

StreamMode = Literal["new_turn", "regenerate"]


class ReplySink(Protocol):
    """Where frames of one request go: the DM socket, or pushes on a room channel."""

    async def send(self, frame: JsonDict) -> None: ...

    async def drop(self, close_code: int | None) -> None: ...

    def generation_done(self) -> None:
        """The server has finished generating (called just before the final frame, or at a drop)."""


def split_snapshots(text: str, chunk_chars: int, min_snapshots: int) -> list[str]:
    """Cumulative prefixes of ``text``; at least ``min_snapshots`` when the text is long enough."""
    if not text:
        return [""]
    step = min(chunk_chars, max(1, -(-len(text) // min_snapshots)))
    cuts = [*range(step, len(text), step), len(text)]
    return [text[:cut] for cut in cuts]


def turn_frame(
    command: str,
    request_id: str | None,
    turn: Turn,
    candidates: list[JsonDict],
    chat_type: str,
    generation_mode: JsonDict | None,
    extra: JsonDict | None = None,
) -> JsonDict:
    frame: JsonDict = {
        "command": command,
        "request_id": request_id,
        "turn": turn.to_wire(candidates),
        "chat_info": {"type": chat_type},
    }
    if generation_mode is not None:
        frame["generation_mode"] = generation_mode
    if extra:
        frame.update(extra)
    return frame


async def stream_candidate(
    world: FakeWorld,
    sink: ReplySink,
    *,
    request_id: str | None,
    turn: Turn,
    candidate: Candidate,
    full_text: str,
    mode: StreamMode,
    chat_type: str,
    chunk_chars: int,
    delay: float,
    fault: Fault | None,
    extra: JsonDict | None = None,
) -> bool:
    """Send the snapshots of ``candidate`` (already attached to ``turn``). A new turn starts with
    ``add_turn``; a regeneration uses only ``update_turn``. Intermediate frames have no ``is_final`` key;
    the last frame is always an ``update_turn`` with ``is_final: true``. Returns False when a fault cut the
    stream short."""
    text = full_text
    truncated = fault is not None and fault.kind == "safety_truncate"
    if fault is not None and truncated:
        keep = fault.keep_chars if fault.keep_chars is not None else len(full_text) // 2
        text = full_text[:keep]
    snapshots = split_snapshots(text, chunk_chars, world.settings.min_snapshots)
    plan: list[tuple[str, str, bool]] = []  # (command, text, final)
    if mode == "new_turn":
        plan.append(("add_turn", snapshots[0], False))
        plan.extend(("update_turn", snap, False) for snap in snapshots[1:-1])
    else:
        plan.extend(("update_turn", snap, False) for snap in snapshots[:-1])
    plan.append(("update_turn", snapshots[-1], True))

    others = [c for c in turn.candidates if c is not candidate]
    candidate.final = False
    cut_at = fault.after_snapshots if fault is not None and fault.kind in ("drop", "stall") else None
    generation_mode = world.generation_mode()
    index = 0
    try:
        for index, (command, snapshot, final) in enumerate(plan):
            if cut_at is not None and index >= cut_at:
                assert fault is not None
                await _interrupt(world, sink, fault, candidate, [snap for _, snap, _ in plan[index:]], delay)
                return False
            if index > 0 and delay > 0:
                await asyncio.sleep(delay)
            candidate.raw_content = snapshot
            candidate.safety_truncated = final and truncated
            if final:
                candidate.final = True
                sink.generation_done()
            wire_candidates = [candidate.to_wire(is_final=True if final else None)]
            if mode == "regenerate":
                wire_candidates.extend(c.to_wire() for c in others)
            await sink.send(
                turn_frame(command, request_id, turn, wire_candidates, chat_type, generation_mode, extra)
            )
    except asyncio.CancelledError:
        # The socket went away under the stream (the client closed it): the server goes on generating.
        if not candidate.final and not (cut_at is not None and index >= cut_at):
            world.spawn(_generate_unseen(world, candidate, [snap for _, snap, _ in plan[index:]], delay, None))
        raise
    return True


async def _interrupt(
    world: FakeWorld, sink: ReplySink, fault: Fault, candidate: Candidate, unseen: list[str], delay: float
) -> None:
    """A drop or stall fault at this point of the stream. ``unseen`` holds the snapshots not sent yet."""
    if fault.kind == "stall":
        try:
            await world.stalls_released.wait()
        finally:  # released (or the socket closed): no final frame; the history keeps the cut as final
            candidate.final = True
        return
    await world.hold_fault(fault)  # wait_for_release: streamed this far, the drop waits for the test
    if fault.after_drop == "continue":
        pace = fault.continue_delay if fault.continue_delay is not None else delay
        epoch = world.release_epoch if fault.hold else None
        world.spawn(_generate_unseen(world, candidate, unseen, pace, epoch))
    else:
        candidate.final = True  # "cut": what was streamed is stored as the final text
    sink.generation_done()
    await sink.drop(fault.close_code)


async def _generate_unseen(
    world: FakeWorld, candidate: Candidate, unseen: list[str], pace: float, held_since: int | None
) -> None:
    """The rest of a generation whose socket dropped: it grows in the history, then becomes final."""
    if held_since is not None:
        await world.wait_release(held_since)
    for snapshot in unseen:
        if pace > 0:
            await asyncio.sleep(pace)
        candidate.raw_content = snapshot
    candidate.final = True
