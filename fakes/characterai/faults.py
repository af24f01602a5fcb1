"""Injectable faults, off by default. Each fault applies to the next matching request(s), then expires."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr

FaultKind = Literal[
    "neo_error",  # answer with a neo_error frame and nothing else
    "rate_limit",  # neo_error 429 with retry_after_seconds set
    "self_harm_filter",  # answer with filter_user_input_self_harm
    "input_filter",  # answer with filter_user_input
    "safety_truncate",  # the reply stops early; final candidate has safety_truncated: true
    "drop",  # close the socket after `after_snapshots` snapshots; the server finishes the turn (or cuts it)
    "stall",  # stop answering after `after_snapshots` character snapshots (timeout tests)
    "delay",  # wait `seconds` before answering normally
    "rest_error",  # REST: answer `status` with `body` (429 / 500 / HTML 403 ...)
]
FaultTarget = Literal["dm", "room", "rest", "any"]
# What the server does with a turn whose socket dropped: "continue" generating it unseen (the history shows it
# growing, then final, as on the real service), or "cut" it (the text streamed so far is stored as final).
AfterDrop = Literal["continue", "cut"]

GENERATING_COMMANDS = frozenset({"create_and_generate_turn", "generate_turn_candidate", "generate_turn"})
USER_INPUT_COMMANDS = frozenset({"create_and_generate_turn", "create_turn"})
_GENERATION_ONLY: frozenset[str] = frozenset({"safety_truncate", "drop", "stall"})
_USER_INPUT_ONLY: frozenset[str] = frozenset({"self_harm_filter", "input_filter"})


class Fault(BaseModel):
    kind: FaultKind
    target: FaultTarget = "any"
    command: str | None = None  # only requests with this command (websocket) match
    chat_id: str | None = None  # only requests about this chat (websocket: a DM chat, or a room) match
    path_prefix: str | None = None  # only REST paths starting with this match
    times: int = Field(default=1, ge=1)
    # The fault waits for a release_stalls() called after the request arrived before it acts (an error answer,
    # a drop at its snapshot, a delay before it starts); the request stays in flight meanwhile, so tests can line
    # other requests up behind it, or keep a request in flight while another one fails.
    wait_for_release: bool = False
    # neo_error / rate_limit
    comment: str = "injected error"
    error_code: int = 400
    sub_code: int | None = None
    retry_after_seconds: float | None = None
    # drop / stall / safety_truncate
    after_snapshots: int = Field(default=1, ge=0)
    close_code: int | None = 1011  # drop: None aborts the TCP connection without a close frame
    after_drop: AfterDrop = "continue"
    hold: bool = False  # drop + continue: the unseen rest waits for release_stalls() before it is generated
    continue_delay: float | None = Field(default=None, ge=0)  # drop + continue: seconds per unseen snapshot
    keep_chars: int | None = Field(default=None, ge=0)  # safety_truncate: text kept (default: half)
    # delay
    seconds: float = Field(default=0.0, ge=0)
    # rest_error
    status: int = 500
    body: str = "Internal Server Error"
    content_type: str = "text/plain"
    _armed_at: int = PrivateAttr(default=0)  # the world's release_epoch when the fault was taken

    @property
    def armed_at(self) -> int:
        return self._armed_at

    def arm(self, release_epoch: int) -> Fault:
        self._armed_at = release_epoch
        return self

    def matches_ws(self, channel: Literal["dm", "room"], command: str, chat_id: str | None = None) -> bool:
        if self.target not in (channel, "any") or self.kind == "rest_error":
            return False
        if self.command is not None and self.command != command:
            return False
        if self.chat_id is not None and self.chat_id != chat_id:
            return False
        if self.kind in _GENERATION_ONLY and command not in GENERATING_COMMANDS:
            return False
        return not (self.kind in _USER_INPUT_ONLY and command not in USER_INPUT_COMMANDS)

    def matches_rest(self, path: str) -> bool:
        if self.kind != "rest_error" or self.target not in ("rest", "any"):
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


class FaultBook:
    """Queued faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault.model_copy())

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[Fault]:
        return [f.model_copy() for f in self._faults]

    def take_ws(self, channel: Literal["dm", "room"], command: str, chat_id: str | None = None) -> Fault | None:
        return self._take(lambda f: f.matches_ws(channel, command, chat_id))

    def take_rest(self, path: str) -> Fault | None:
        return self._take(lambda f: f.matches_rest(path))

    def _take(self, matches: Callable[[Fault], bool]) -> Fault | None:
        for index, fault in enumerate(self._faults):
            if matches(fault):
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[index]
                return fault.model_copy()
        return None
