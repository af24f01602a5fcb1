"""Flood control: Telegram's per-chat, per-group and global limits, penalties and 429 "storms".

The limits, per bot (edits and chat actions count like sends, see ``DEFAULT_COUNTED_METHODS``):

* every chat: one call per second with a short burst (a token bucket: ``private_burst`` at once, then
  ``private_per_second``), as Telegram tolerates short bursts;
* every group: at most ``group_per_minute`` calls in any rolling 60 s;
* all chats together: at most ``global_per_second`` calls in any rolling second.

The group and global limits are *rolling* windows, as strict as Telegram: a call at ``t`` is refused while
the window ``(t - window, t]`` already holds the limit, whatever calendar second or minute it falls in, and
``retry_after`` says when the oldest call in the window leaves it.

Time scaling: every window is multiplied by ``time_scale`` (0.01 turns "1 message per second" into one per
10 ms). ``retry_after`` is computed in Telegram seconds (an integer >= 1, as Telegram sends) and then
scaled for the wire: with ``time_scale == 1`` the JSON holds that integer exactly; with a smaller scale it
holds ``seconds * time_scale`` as a float, which PTB 22 accepts (``RetryAfter`` takes int | float and
stores a timedelta). A bot that sleeps ``retry_after`` as given is therefore correct at any scale.

A *penalty* is a counted call to a chat made before the ``retry_after`` of that chat's last 429 elapsed;
it is answered 429 again (with the remaining time) and counted.

Every time here comes from ``clock`` (``time.monotonic`` unless the fake was given another), so tests can
drive the windows with a manual clock and count exactly.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from .errors import ApiError, too_many_requests
from .world import Chat, ChatKey

Clock = Callable[[], float]

# Methods that Telegram counts against the flood limits (edits count like sends).
DEFAULT_COUNTED_METHODS = frozenset(
    name.lower()
    for name in (
        "sendMessage", "editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia",
        "sendChatAction", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendVoice", "sendAnimation",
        "sendSticker", "sendMediaGroup", "sendPoll", "sendLocation", "sendContact", "copyMessage",
        "forwardMessage",
    )
)

GROUP_WINDOW = 60.0  # Telegram seconds
GLOBAL_WINDOW = 1.0


class FloodConfig(BaseModel):
    """Limits in Telegram units; ``time_scale`` shrinks every window for fast tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    time_scale: float = Field(default=1.0, gt=0)
    private_per_second: float = Field(default=1.0, gt=0)
    private_burst: int = Field(default=3, ge=1)
    group_per_minute: int = Field(default=20, ge=1, description="calls per rolling 60 s per group")
    global_per_second: int = Field(default=30, ge=1, description="calls per rolling second per bot")
    counted_methods: frozenset[str] = DEFAULT_COUNTED_METHODS


@dataclass
class _TokenBucket:
    capacity: float
    refill_per_second: float  # in real seconds, already scaled
    tokens: float
    updated: float

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.refill_per_second

    def take(self, now: float) -> None:
        self.tokens -= 1


@dataclass
class _RollingWindow:
    """At most ``limit`` calls in any window ``(t - seconds, t]`` (``seconds`` already scaled)."""

    limit: int
    seconds: float
    stamps: deque[float] = field(default_factory=deque)

    def wait_needed(self, now: float) -> float:
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[-self.limit] + self.seconds - now  # when the oldest call in the window leaves it

    def take(self, now: float) -> None:
        self.stamps.append(now)


_Limiter = _TokenBucket | _RollingWindow


@dataclass
class StormRule:
    """Answer 429 to counted calls (on one chat or all) until ``until``, with a deterministic probability."""

    chat: ChatKey | None
    until: float | None
    probability: float
    retry_after: int  # Telegram seconds, scaled on the wire
    rng: random.Random

    def hits(self, chat: ChatKey, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        if self.chat is not None and self.chat != chat:
            return False
        return self.probability >= 1 or self.rng.random() < self.probability


@dataclass
class FloodStats:
    too_many_requests: int = 0
    penalties: int = 0
    too_many_by_chat: Counter[ChatKey] = field(default_factory=Counter)
    penalties_by_chat: Counter[ChatKey] = field(default_factory=Counter)


class FloodControl:
    def __init__(self, config: FloodConfig, clock: Clock = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.stats = FloodStats()
        self.storms: list[StormRule] = []
        self._limiters: dict[tuple[str, int, int, int], _Limiter] = {}
        self._penalty_until: dict[tuple[int, ChatKey], float] = {}

    def reconfigure(self, config: FloodConfig) -> None:
        self.config = config
        self._limiters.clear()

    def scaled(self, telegram_seconds: float) -> float:
        return telegram_seconds * self.config.time_scale

    def wire_retry_after(self, telegram_seconds: int) -> int | float:
        value = telegram_seconds * self.config.time_scale
        return int(value) if self.config.time_scale == 1 else round(value, 6)

    def penalty_remaining(self, bot_id: int, chat: Chat) -> float:
        return max(0.0, self._penalty_until.get((bot_id, chat.key), 0.0) - self.clock())

    def check(self, bot_id: int, chat: Chat, method: str) -> None:
        """Raise a 429 ApiError if this counted call must be refused; otherwise count it in every limit."""
        if method.lower() not in self.config.counted_methods:
            return
        now = self.clock()
        key = (bot_id, chat.key)
        remaining = self._penalty_until.get(key, 0.0) - now
        if remaining > 0:
            self.stats.penalties += 1
            self.stats.penalties_by_chat[chat.key] += 1
            raise self._refuse(key, now, self._telegram_seconds(remaining), extend=False)
        for storm in self.storms:
            if storm.hits(chat.key, now):
                raise self._refuse(key, now, storm.retry_after)
        if not self.config.enabled:
            return
        limiters = self._limiters_for(bot_id, chat, now)
        wait = max(limiter.wait_needed(now) for limiter in limiters)
        if wait > 0:
            raise self._refuse(key, now, self._telegram_seconds(wait))
        for limiter in limiters:
            limiter.take(now)

    def _telegram_seconds(self, real_wait: float) -> int:
        return max(1, math.ceil(real_wait / self.config.time_scale - 1e-9))

    def _refuse(self, key: tuple[int, ChatKey], now: float, telegram_seconds: int, extend: bool = True) -> ApiError:
        self.stats.too_many_requests += 1
        self.stats.too_many_by_chat[key[1]] += 1
        wire = self.wire_retry_after(telegram_seconds)
        if extend:
            self._penalty_until[key] = now + float(wire)
        return too_many_requests(wire)

    def _limiters_for(self, bot_id: int, chat: Chat, now: float) -> list[_Limiter]:
        config = self.config
        limiters: list[_Limiter] = [
            self._limiter(("chat", bot_id, *chat.key), lambda: _TokenBucket(
                config.private_burst, config.private_per_second / config.time_scale, config.private_burst, now)),
            self._limiter(("global", bot_id, 0, 0), lambda: _RollingWindow(
                config.global_per_second, self.scaled(GLOBAL_WINDOW))),
        ]
        if chat.is_group:
            limiters.append(self._limiter(("group", bot_id, *chat.key), lambda: _RollingWindow(
                config.group_per_minute, self.scaled(GROUP_WINDOW))))
        return limiters

    def _limiter(self, key: tuple[str, int, int, int], create: Callable[[], _Limiter]) -> _Limiter:
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = create()
        return limiter
