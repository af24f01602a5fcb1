"""Fixed-window REST rate limits with Discord's headers, 429 bodies, and a count of 429s and penalties.

A *penalty* is a request to a bucket that was answered 429 and whose `retry_after` has not elapsed yet:
the client ignored what it was told. A well-behaved client makes none. 429s of `shared` scope (a limit on
a resource, such as every webhook of one channel) are counted like the others.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .config import BucketLimit

GLOBAL_BUCKET = "global"


@dataclass
class BucketState:
    window_start: float
    count: int = 0
    blocked_until: float = 0.0


@dataclass(frozen=True)
class RateLimitEvent:
    at: float
    bucket: str
    kind: str  # "429" or "penalty"
    retry_after: float


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False


@dataclass
class RateLimitCounters:
    rate_limited: int = 0
    penalties: int = 0
    events: list[RateLimitEvent] = field(default_factory=list)


def _round_up(seconds: float) -> float:
    return math.ceil(max(seconds, 0.0) * 1000) / 1000


def bucket_hash(rule_name: str) -> str:
    return hashlib.sha1(rule_name.encode()).hexdigest()[:32]


class RateLimiter:
    def __init__(self, penalty_grace: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._grace = penalty_grace
        self._buckets: dict[str, BucketState] = {}
        self.counters = RateLimitCounters()

    def reset(self) -> None:
        self._buckets.clear()

    def check(
        self, rule_name: str, rule: BucketLimit, major: str, *, scope: str = "user", announce: bool = True
    ) -> Verdict:
        """Count one request against `rule_name` for the major parameter `major` (channel, webhook...).

        `scope` is what a 429 says in `X-RateLimit-Scope` ("global" for the global bucket); with
        `announce=False` successful answers carry no `X-RateLimit-*` headers for this bucket (Discord does
        not tell about shared limits until they are hit)."""
        now = self._clock()
        key = f"{rule_name}:{major}"
        state = self._buckets.get(key)
        if state is None or now >= state.window_start + rule.window:
            blocked_until = state.blocked_until if state else 0.0
            state = BucketState(window_start=now, blocked_until=blocked_until)
            self._buckets[key] = state
        if now < state.blocked_until - self._grace:
            self.counters.penalties += 1
            self.counters.events.append(RateLimitEvent(now, key, "penalty", state.blocked_until - now))
        reset_at = state.window_start + rule.window
        is_global = rule_name == GLOBAL_BUCKET
        if state.count < rule.limit:
            state.count += 1
            quiet = is_global or not announce
            headers = {} if quiet else self._headers(rule_name, rule, rule.limit - state.count, reset_at - now)
            return Verdict(allowed=True, headers=headers)
        retry_after = _round_up(reset_at - now)
        state.blocked_until = max(state.blocked_until, reset_at)
        self.counters.rate_limited += 1
        self.counters.events.append(RateLimitEvent(now, key, "429", retry_after))
        headers = self._headers(rule_name, rule, 0, reset_at - now) if not is_global else {}
        headers.update(
            {
                "Retry-After": str(max(1, math.ceil(retry_after))),
                "X-RateLimit-Scope": "global" if is_global else scope,
                "Via": "1.1 google",
            }
        )
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        return Verdict(allowed=False, headers=headers, retry_after=retry_after, is_global=is_global)

    def penalty(self, key: str, early_by: float) -> None:
        """A request `early_by` seconds before a 429 (from elsewhere, e.g. an injected one) allowed it."""
        self.counters.penalties += 1
        self.counters.events.append(RateLimitEvent(self._clock(), key, "penalty", early_by))

    def now(self) -> float:
        return self._clock()

    @property
    def grace(self) -> float:
        return self._grace

    @staticmethod
    def _headers(rule_name: str, rule: BucketLimit, remaining: int, reset_after: float) -> dict[str, str]:
        reset_after = _round_up(reset_after)
        return {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(rule_name),
        }
