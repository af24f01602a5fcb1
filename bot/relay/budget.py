"""Call budgets shared by every reply stream of one adapter: one sliding window per destination, one per
pool of destinations that share a limit (every webhook of a Discord channel), one for the whole platform,
and the "blocked until" times that 429 answers impose."""

from __future__ import annotations

from collections import deque

from bot.relay.clock import Clock, LoopClock
from bot.relay.policy import PacingPolicy
from bot.relay.turns import Priority, Turns


class SlidingWindow:
    """At most ``limit`` events in any half-open window ``(t - window, t]``."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._stamps: deque[float] = deque()

    def ready_at(self, now: float) -> float:
        """The earliest time (>= now) at which one more event fits."""
        while self._stamps and self._stamps[0] + self.window <= now:
            self._stamps.popleft()
        excess = len(self._stamps) - self.limit
        if excess < 0:
            return now
        return max(now, self._stamps[excess] + self.window)

    def record(self, now: float) -> None:
        self._stamps.append(now)

    def idle(self, now: float) -> bool:
        return self.ready_at(now) <= now and not self._stamps


class TokenBucket:
    """Spreads calls out: ``burst`` at once, then ``rate`` per second. In any ``window`` it admits at
    most ``burst + rate * window`` calls, so with ``rate = (limit - burst) / window`` it never breaks the
    sliding window it smooths."""

    _EPSILON = 1e-9  # float slack, so a waiter woken at its exact refill time is not sent back to sleep

    def __init__(self, burst: int, rate: float, now: float) -> None:
        self.burst, self.rate = burst, rate
        self._tokens, self._at = float(burst), now

    def ready_at(self, now: float) -> float:
        self._refill(now)
        missing = 1.0 - self._tokens
        return now if missing <= self._EPSILON else now + missing / self.rate

    def spare(self, now: float) -> float:
        """Tokens there are now."""
        self._refill(now)
        return self._tokens

    def record(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now


class _Window:
    """The budget of one destination or pool: a sliding window, optionally spread out by a token bucket,
    and the time a 429 blocks it until."""

    def __init__(self, limit: int, window: float, burst: int, now: float) -> None:
        self.window = SlidingWindow(limit, window)
        self.bucket: TokenBucket | None = None
        self.blocked_until = float("-inf")
        self.configure(limit, window, burst, now)

    def configure(self, limit: int, window: float, burst: int, now: float) -> None:
        self.window.limit, self.window.window = limit, window
        if not 0 < burst < limit:
            self.bucket = None
            return
        rate = (limit - burst) / window
        if self.bucket is None or (self.bucket.burst, self.bucket.rate) != (burst, rate):
            self.bucket = TokenBucket(burst, rate, now)

    def ready_at(self, now: float) -> float:
        ready = max(self.window.ready_at(now), self.blocked_until)
        return max(ready, self.bucket.ready_at(now)) if self.bucket else ready

    def record(self, now: float) -> None:
        self.window.record(now)
        if self.bucket:
            self.bucket.record(now)

    def idle(self, now: float) -> bool:
        return self.window.idle(now) and self.blocked_until <= now


class _Destination(_Window):
    def __init__(self, policy: PacingPolicy, now: float) -> None:
        super().__init__(policy.destination_limit, policy.destination_window, policy.destination_burst, now)
        self.last_typing_at = float("-inf")
        self.turns = Turns()  # streams into one destination are served by priority, then in order

    def configure_for(self, policy: PacingPolicy, now: float) -> None:
        self.configure(policy.destination_limit, policy.destination_window, policy.destination_burst, now)


class Budgets:
    """Owned by one adapter (one platform token) and passed to every ``relay_reply`` it runs."""

    _PRUNE_EVERY = 256

    def __init__(self, *, global_limit: int, global_window: float = 1.0, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or LoopClock()
        self._global = SlidingWindow(global_limit, global_window)
        self._global_blocked_until = float("-inf")
        self._destinations: dict[str, _Destination] = {}
        self._pools: dict[str, _Window] = {}
        self._created = 0

    @classmethod
    def for_policy(cls, policy: PacingPolicy, clock: Clock | None = None) -> Budgets:
        return cls(global_limit=policy.global_limit, global_window=policy.global_window, clock=clock)

    async def acquire(
        self,
        destination: str,
        policy: PacingPolicy,
        priority: Priority = Priority.UPDATE,
        *,
        shared: str | None = None,
    ) -> None:
        """Wait for a slot in the destination's and the global window (and in the pool ``shared``, when
        given and the policy has a ``shared_limit``; and past any 429 block), then take it. The caller
        must make its platform call right away, without awaiting anything else."""
        dest = self._destination(destination, policy)
        pool = self._pool(shared, policy)
        async with dest.turns.hold(priority):
            while True:
                now = self.clock.now()
                ready = max(self._ready_at(dest, now, use_destination=True), now)
                if pool is not None:
                    ready = max(ready, pool.ready_at(now))
                if ready <= now:
                    dest.record(now)
                    if pool is not None:
                        pool.record(now)
                    self._global.record(now)
                    return
                await self.clock.sleep_until(ready)

    def try_typing(self, destination: str, policy: PacingPolicy) -> bool:
        """Whether to show the typing indicator now, taking a slot if so. Never at the expense of a
        message: not while a stream waits for this destination, not with the last spare token, and
        only once per ``typing_interval`` for the destination (the indicator is per chat)."""
        dest = self._destination(destination, policy)
        now = self.clock.now()
        if dest.turns.busy() or now < dest.last_typing_at + policy.typing_interval:
            return False
        counted = policy.typing_uses_budget
        if self._ready_at(dest, now, use_destination=counted) > now:
            return False
        if counted and dest.bucket is not None and dest.bucket.spare(now) < 2.0:
            return False
        if counted:
            dest.record(now)
        self._global.record(now)
        dest.last_typing_at = now
        return True

    def block(self, destination: str, seconds: float, *, is_global: bool = False) -> None:
        """A 429 answer: nothing touches the destination (or pool, or the platform) for ``seconds``."""
        until = self.clock.now() + seconds
        if is_global:
            self._global_blocked_until = max(self._global_blocked_until, until)
            return
        target = self._destinations.get(destination) or self._pools.get(destination)
        if target is not None:
            target.blocked_until = max(target.blocked_until, until)

    def blocked_until(self, destination: str) -> float:
        dest = self._destinations.get(destination)
        own = dest.blocked_until if dest else float("-inf")
        return max(own, self._global_blocked_until)

    def _ready_at(self, dest: _Destination, now: float, *, use_destination: bool) -> float:
        ready = max(self._global.ready_at(now), self._global_blocked_until, dest.blocked_until)
        return max(ready, dest.ready_at(now)) if use_destination else ready

    def _destination(self, key: str, policy: PacingPolicy) -> _Destination:
        dest = self._destinations.get(key)
        if dest is None:
            self._created += 1
            if self._created % self._PRUNE_EVERY == 0:
                self._prune()
            dest = self._destinations[key] = _Destination(policy, self.clock.now())
        else:
            dest.configure_for(policy, self.clock.now())  # a preset's overrides may change the numbers
        return dest

    def _pool(self, key: str | None, policy: PacingPolicy) -> _Window | None:
        if key is None or not policy.shared_limit:
            return None
        now = self.clock.now()
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Window(policy.shared_limit, policy.shared_window, policy.shared_burst, now)
        else:
            pool.configure(policy.shared_limit, policy.shared_window, policy.shared_burst, now)
        return pool

    def _prune(self) -> None:
        now = self.clock.now()
        for key, dest in list(self._destinations.items()):
            if dest.idle(now) and not dest.turns.busy():
                del self._destinations[key]
        for key, pool in list(self._pools.items()):
            if pool.idle(now):
                del self._pools[key]
