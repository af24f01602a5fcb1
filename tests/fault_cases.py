"""Every fault the fake Character.AI can inject, each aimed at ONE user's message while four other users talk at
once, with what that user must get in the end. Shared by the fault-isolation tests of the Telegram bridge, the
HTTP API and the Character.AI client.

A fault is aimed at the faulted user's upstream chat (``Fault.chat_id``), so it can never land on somebody else's
request whatever order the requests arrive in. In a DM chat, faults that would otherwise act at once (error
answers, drops) wait for ``release_stalls()`` (``wait_for_release``): the faulted request stays in flight until
the test has lined the four other messages up behind it. Stalls and delays hold their request by themselves,
until its own timeout ends it. Rooms have no line to wait in: there the four others are held in flight
(``hold_in_flight``) while the fault acts at once and the faulted request runs its whole course.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from backends.characterai import CharacterAIBackend
from bot.upstream.base import ErrorCode
from fakes.characterai import FakeCharacterAI, FaultKind

# The bridge's first-token and idle timeouts in these tests, in real seconds: what a stalled reply waits before
# it fails. Everybody else's reply must fit in its own timeouts, counted from when it is written upstream.
FIRST_TOKEN = 2.5
UPSTREAM: dict[str, Any] = {
    "connect_timeout": 5.0,
    "request_timeout": 10.0,
    "first_token_timeout": FIRST_TOKEN,
    "idle_timeout": FIRST_TOKEN,
    "queue_timeout": 30.0,  # the others wait behind a stalled reply (FIRST_TOKEN) and its socket's reset
    "reconnect_initial": 0.01,
    "reconnect_max": 0.05,
    "recovery_attempts": 2,
    "recovery_interval": 0.01,
}
# The two shapes of the DM pool: everything queued behind the faulted request on one socket, or the default pool.
POOLS: dict[str, dict[str, Any]] = {"one-socket": {"dm_sockets": 1}, "default-pool": {}}
TRUNCATED_TO = 12  # characters of the reply kept by the safety_truncate case


@dataclass(frozen=True)
class FaultCase:
    id: str
    kind: FaultKind
    options: dict[str, Any] = field(default_factory=dict)
    # What the faulted user's reply ends with: an error (its code), or None: the reply itself (recovered).
    outcome: ErrorCode | None = None
    rest: dict[str, Any] | None = None  # a REST fault on the faulted chat's history as well (look-ups after a drop)

    @property
    def held(self) -> bool:
        """The fault waits for ``release_stalls()`` before it acts."""
        return bool(self.options.get("wait_for_release"))

    def inject(
        self, fake: FakeCharacterAI, chat_id: str, channel: Literal["dm", "room"] = "dm", held: bool = True
    ) -> None:
        """Aim the fault at the user's message in ``chat_id``: a DM chat, or a room (channel "room"), where a
        message is posted (``create_turn``, which the input filters judge) and then answered (``generate_turn``).
        ``held=False``: the fault acts at once, without waiting for ``release_stalls()``."""
        command = "create_and_generate_turn"
        if channel == "room":
            command = "create_turn" if self.kind in ("self_harm_filter", "input_filter") else "generate_turn"
        options = {**self.options, "wait_for_release": self.held and held}
        fake.inject(self.kind, target=channel, command=command, chat_id=chat_id, **options)
        if self.rest is not None:
            fake.inject("rest_error", target="rest", path_prefix=f"/turns/{chat_id}/", **self.rest)

    @property
    def breaks_connection(self) -> bool:
        """The fault ends its request's connection: a drop, or a timeout (after which the socket is reset)."""
        return self.kind == "drop" or self.outcome is ErrorCode.TIMEOUT

    def expected_reply(self, full: str) -> str | None:
        """The faulted user's final text when the fault lets a reply through (None: an error instead)."""
        if self.outcome is not None:
            return None
        return full[:TRUNCATED_TO] if self.kind == "safety_truncate" else full


WAIT = 30.0  # generous: a stalled reply, its socket's reset and four replies behind it (not a deadline under test)


async def until(condition: Callable[[], bool]) -> None:
    """Poll a condition (on the fake Character.AI, or on our client) for at most ``WAIT`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def sent_upstream(fake: FakeCharacterAI) -> list[str]:
    """The user texts of every DM generation Character.AI received, in order."""
    return [m.frame["payload"]["turn"]["candidates"][0]["raw_content"]
            for m in fake.received("dm", "create_and_generate_turn")]  # fmt: skip


def upstream_chat_of(fake: FakeCharacterAI, text: str) -> str:
    """The Character.AI chat that the one DM generation with this user text was for."""
    (frame,) = [m.frame for m in fake.received("dm", "create_and_generate_turn")
                if m.frame["payload"]["turn"]["candidates"][0]["raw_content"] == text]  # fmt: skip
    return str(frame["payload"]["turn"]["turn_key"]["chat_id"])


def lined_up(backend: CharacterAIBackend, fake: FakeCharacterAI, texts: list[str]) -> bool:
    """Every one of ``texts`` reached Character.AI or waits in the DM pool's line (for the socket the faulted
    request holds, with one socket: then all of them wait)."""
    sent = sent_upstream(fake)
    return backend.dm_requests_waiting + sum(1 for text in texts if text in sent) == len(texts)


def dm_connections_lost(fake: FakeCharacterAI) -> int:
    """DM connections closed so far (dropped by the service, or reset by our client)."""
    return sum(1 for link in fake.dm_sockets() if not link["open"])


def hold_in_flight(fake: FakeCharacterAI, room_id: str) -> None:
    """The next generation in the room waits, in flight, for ``release_stalls()``, then is answered normally."""
    fake.inject("delay", target="room", command="generate_turn", chat_id=room_id, wait_for_release=True)


HELD: dict[str, Any] = {"wait_for_release": True}
DROP: dict[str, Any] = {"after_snapshots": 2, **HELD}

CASES = [
    # the connection drops mid-reply; the service finishes the turn unseen and the history gives it back
    FaultCase("drop-recovered", "drop", DROP),
    FaultCase("drop-tcp-abort", "drop", {**DROP, "close_code": None}),
    FaultCase("drop-history-429-once", "drop", DROP, rest={"status": 429, "body": "Too Many Requests"}),
    # ... or the turn is cut with the connection, or its history cannot be read: this reply fails, alone
    FaultCase("drop-cut", "drop", {**DROP, "after_drop": "cut"}, ErrorCode.UNAVAILABLE),
    FaultCase("drop-history-500", "drop", DROP, ErrorCode.UNAVAILABLE, rest={"status": 500, "times": 10}),
    # the reply stalls (before its first token, or mid-reply) or starts too late: its own timeout ends it
    FaultCase("stall-first-token", "stall", {"after_snapshots": 0}, ErrorCode.TIMEOUT),
    FaultCase("stall-mid-reply", "stall", {"after_snapshots": 2}, ErrorCode.TIMEOUT),
    FaultCase("delay-past-first-token", "delay", {"seconds": 4 * FIRST_TOKEN}, ErrorCode.TIMEOUT),
    # the service answers this one request with an error
    FaultCase("neo-error-500", "neo_error", {"error_code": 500, "comment": "model error", **HELD}, ErrorCode.MODEL),
    FaultCase("neo-error-400", "neo_error", {"error_code": 400, "comment": "bad request", **HELD}, ErrorCode.INVALID),
    FaultCase("neo-error-403", "neo_error", {"error_code": 403, "comment": "forbidden", **HELD}, ErrorCode.AUTH),
    FaultCase("rate-limit", "rate_limit", {"retry_after_seconds": 7, **HELD}, ErrorCode.RATE_LIMITED),
    FaultCase("self-harm-filter", "self_harm_filter", HELD, ErrorCode.FILTERED),
    FaultCase("input-filter", "input_filter", HELD, ErrorCode.FILTERED),
    # the reply is cut short by the safety filter: the part that came is delivered
    FaultCase("safety-truncate", "safety_truncate", {"keep_chars": TRUNCATED_TO}),
]
