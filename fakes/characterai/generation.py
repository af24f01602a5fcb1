"""Streaming a character reply as cumulative snapshots, with the fault hooks that can interrupt it."""

from __future__ import annotations

import asyncio
from typing import Literal, Protocol

from fakes.characterai.faults import Fault
from fakes.characterai.state import Candidate, Turn
from fakes.characterai.wire import JsonDict

StreamMode = Literal["new_turn", "regenerate"]


class ReplySink(Protocol):
    """Where frames of one request go: the DM socket, or pushes on a room channel."""

    async def send(self, frame: JsonDict) -> None: ...

    async def drop(self, close_code: int | None) -> None: ...


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
    sink: ReplySink,
    *,
    request_id: str | None,
    turn: Turn,
    candidate: Candidate,
    full_text: str,
    mode: StreamMode,
    chat_type: str,
    chunk_chars: int,
    min_snapshots: int,
    delay: float,
    generation_mode: JsonDict,
    fault: Fault | None,
    released: asyncio.Event,
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
    snapshots = split_snapshots(text, chunk_chars, min_snapshots)
    plan: list[tuple[str, str, bool]] = []  # (command, text, final)
    if mode == "new_turn":
        plan.append(("add_turn", snapshots[0], False))
        plan.extend(("update_turn", snap, False) for snap in snapshots[1:-1])
    else:
        plan.extend(("update_turn", snap, False) for snap in snapshots[:-1])
    plan.append(("update_turn", snapshots[-1], True))

    others = [c for c in turn.candidates if c is not candidate]
    cut_at = fault.after_snapshots if fault is not None and fault.kind in ("drop", "stall") else None
    for index, (command, snapshot, final) in enumerate(plan):
        if cut_at is not None and index >= cut_at:
            assert fault is not None
            if fault.kind == "drop":
                await sink.drop(fault.close_code)
            else:
                await released.wait()
            return False
        if index > 0 and delay > 0:
            await asyncio.sleep(delay)
        candidate.raw_content = snapshot
        candidate.safety_truncated = final and truncated
        wire_candidates = [candidate.to_wire(is_final=True if final else None)]
        if mode == "regenerate":
            wire_candidates.extend(c.to_wire() for c in others)
        await sink.send(
            turn_frame(command, request_id, turn, wire_candidates, chat_type, generation_mode, extra)
        )
    return True
