"""Flood control: Telegram's per-chat, per-group and global limits, penalties and 429 "storms".

Time scaling: every window is multiplied by ``time_scale`` (0.01 turns "1 message per second" into one per
10 ms). ``retry_after`` is computed in Telegram seconds (an integer >= 1, as Telegram sends) and then
scaled for the wire: with ``time_scale == 1`` the JSON holds that integer exactly; with a smaller scale it
holds ``seconds * time_scale`` as a float, which PTB 22 accepts (``RetryAfter`` takes int | float and
stores a timedelta). A bot that sleeps ``retry_after`` as given is therefore correct at any scale.

A *penalty* is a counted call to a chat made before the ``retry_after`` of that chat's last 429 elapsed;
it is answered 429 again (with the remaining time) and counted.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from .errors import ApiError, too_many_requests
from .world import Chat, ChatKey

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


class FloodConfig(BaseModel):
    """Limits in Telegram units; ``time_scale`` shrinks every window for fast tests."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = True
    time_scale: float = Field(default=1.0, gt=0)
    private_per_second: float = Field(default=1.0, gt=0)
    private_burst: int = Field(default=3, ge=1)
    group_per_minute: int = Field(default=20, ge=1)
    global_per_second: float = Field(default=30.0, gt=0)
    global_burst: int = Field(default=30, ge=1)
    counted_methods: frozenset[str] = DEFAULT_COUNTED_METHODS


@dataclass
class _TokenBucket:
    capacity: float
    refill_per_second: float  # in real seconds, already scaled
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now

    def wait_needed(self, now: float) -> float:
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.refill_per_second


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
    def __init__(self, config: FloodConfig) -> None:
        self.config = config
        self.stats = FloodStats()
        self.storms: list[StormRule] = []
        self._buckets: dict[tuple[str, int, int, int], _TokenBucket] = {}
        self._penalty_until: dict[tuple[int, ChatKey], float] = {}

    def reconfigure(self, config: FloodConfig) -> None:
        self.config = config
        self._buckets.clear()

    def scaled(self, telegram_seconds: float) -> float:
        return telegram_seconds * self.config.time_scale

    def wire_retry_after(self, telegram_seconds: int) -> int | float:
        value = telegram_seconds * self.config.time_scale
        return int(value) if self.config.time_scale == 1 else round(value, 6)

    def penalty_remaining(self, bot_id: int, chat: Chat) -> float:
        return max(0.0, self._penalty_until.get((bot_id, chat.key), 0.0) - time.monotonic())

    def check(self, bot_id: int, chat: Chat, method: str) -> None:
        """Raise a 429 ApiError if this counted call must be refused; otherwise consume the budget."""
        if method.lower() not in self.config.counted_methods:
            return
        now = time.monotonic()
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
        buckets = self._buckets_for(bot_id, chat, now)
        wait = max(bucket.wait_needed(now) for bucket in buckets)
        if wait > 0:
            raise self._refuse(key, now, self._telegram_seconds(wait))
        for bucket in buckets:
            bucket.tokens -= 1

    def _telegram_seconds(self, real_wait: float) -> int:
        return max(1, math.ceil(real_wait / self.config.time_scale - 1e-9))

    def _refuse(self, key: tuple[int, ChatKey], now: float, telegram_seconds: int, extend: bool = True) -> ApiError:
        self.stats.too_many_requests += 1
        self.stats.too_many_by_chat[key[1]] += 1
        wire = self.wire_retry_after(telegram_seconds)
        if extend:
            self._penalty_until[key] = now + float(wire)
        return too_many_requests(wire)

    def _buckets_for(self, bot_id: int, chat: Chat, now: float) -> list[_TokenBucket]:
        scale = self.config.time_scale
        buckets = [
            self._bucket(("chat", bot_id, *chat.key), self.config.private_burst,
                         self.config.private_per_second / scale, now),
            self._bucket(("global", bot_id, 0, 0), self.config.global_burst,
                         self.config.global_per_second / scale, now),
        ]
        if chat.is_group:
            per_minute = self.config.group_per_minute
            buckets.append(self._bucket(("group", bot_id, *chat.key), per_minute, per_minute / 60 / scale, now))
        return buckets

    def _bucket(self, key: tuple[str, int, int, int], capacity: int, rate: float, now: float) -> _TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _TokenBucket(capacity, rate, float(capacity), now)
        return bucket
