"""The pieces the relay paces with: the virtual clock, the shared budgets, the policy model."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.relay import Budgets, PacingPolicy, VirtualClock
from bot.relay.policy import PRESETS
from bot.relay.turns import Priority, Turns

POLICY = PacingPolicy(
    destination_limit=3, destination_window=10.0, global_limit=100, min_interval=1.0, max_interval=5.0,
    min_growth=10,
)  # fmt: skip


async def test_virtual_clock_wakes_sleepers_in_order_at_their_deadlines() -> None:
    clock = VirtualClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    cancelled = asyncio.create_task(sleeper("cancelled", 1.0))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.gather(sleeper("b", 2.5), sleeper("a", 0.5), sleeper("c", 7.0))
    assert woke == [("a", 100.5), ("b", 102.5), ("c", 107.0)]
    await clock.sleep_until(50.0)  # in the past: returns at once
    assert clock.now() == 107.0


async def test_destination_window_spaces_calls() -> None:
    clock = VirtualClock()
    budgets = Budgets(global_limit=100, clock=clock)
    times = []
    for _ in range(7):
        await budgets.acquire("chat", POLICY)
        times.append(clock.now())
    assert times == [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0]


async def test_destinations_are_independent_but_share_the_global_window() -> None:
    clock = VirtualClock()
    budgets = Budgets(global_limit=4, global_window=1.0, clock=clock)
    times: dict[str, list[float]] = {"a": [], "b": []}

    async def stream(key: str) -> None:
        for _ in range(3):
            await budgets.acquire(key, POLICY)
            times[key].append(clock.now())

    await asyncio.gather(stream("a"), stream("b"))
    # 4 calls per second in all: two of the six had to wait for the next second
    assert sorted(times["a"] + times["b"]) == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]


async def test_a_block_holds_every_stream_of_the_destination() -> None:
    clock = VirtualClock()
    budgets = Budgets(global_limit=100, clock=clock)
    await budgets.acquire("chat", POLICY)
    budgets.block("chat", 4.0)
    assert budgets.blocked_until("chat") == 4.0
    assert not budgets.try_typing("chat", POLICY)
    got: list[float] = []

    async def take() -> None:
        await budgets.acquire("chat", POLICY)
        got.append(clock.now())

    await asyncio.gather(take(), take(), take())
    assert got == [4.0, 4.0, 10.0]  # after the block, the window (3 per 10 s) still applies
    await budgets.acquire("other", POLICY)  # other destinations were never blocked
    assert clock.now() == 10.0


async def test_global_block_holds_every_destination() -> None:
    clock = VirtualClock()
    budgets = Budgets(global_limit=100, clock=clock)
    budgets.block("chat", 2.0, is_global=True)
    await budgets.acquire("elsewhere", POLICY)
    assert clock.now() == 2.0


async def test_waiters_are_served_by_priority_and_typing_never_jumps_the_queue() -> None:
    clock = VirtualClock()
    budgets = Budgets(global_limit=100, clock=clock)
    served: list[tuple[str, float]] = []
    for _ in range(3):
        await budgets.acquire("chat", POLICY)

    async def take(name: str, priority: Priority) -> None:
        await budgets.acquire("chat", POLICY, priority)
        served.append((name, clock.now()))

    tasks = [
        asyncio.create_task(take(name, priority))
        for name, priority in [
            ("edit-1", Priority.UPDATE),
            ("edit-2", Priority.UPDATE),
            ("final", Priority.FINAL_TEXT),
            ("first", Priority.FIRST_TEXT),
        ]
    ]
    await asyncio.sleep(0)
    assert not budgets.try_typing("chat", POLICY)  # streams are waiting
    await asyncio.gather(*tasks)
    # edit-1 got the turn at once and waited inside it; then the most urgent came first
    assert served == [("edit-1", 10.0), ("first", 10.0), ("final", 10.0), ("edit-2", 20.0)]
    assert budgets.try_typing("fresh", POLICY)


async def test_typing_is_once_per_interval_per_destination_and_keeps_a_spare_token() -> None:
    clock = VirtualClock()
    smooth = POLICY.with_overrides({"destination_limit": 10, "destination_burst": 3, "typing_interval": 4})
    budgets = Budgets(global_limit=100, clock=clock)
    assert budgets.try_typing("chat", smooth)
    assert not budgets.try_typing("chat", smooth)  # another stream into the same chat: already shown
    assert budgets.try_typing("other", smooth)
    await budgets.acquire("chat", smooth)  # one token left of the burst of three
    await clock.sleep(4.0)  # + 4 s x 0.7 tokens/s, but the bucket holds at most 3
    assert budgets.try_typing("chat", smooth)
    await budgets.acquire("chat", smooth)
    await budgets.acquire("chat", smooth)  # the bucket is empty now
    await clock.sleep(4.0)  # typing_interval has passed ...
    await budgets.acquire("chat", smooth)  # ... but 2.8 - 1 tokens ...
    await clock.sleep(0.1)
    assert not budgets.try_typing("chat", smooth)  # ... = 1.87 tokens: the last one is kept for a message
    start = clock.now()
    await budgets.acquire("chat", smooth)
    assert clock.now() == start


async def test_smoothing_spreads_calls_but_never_breaks_the_window() -> None:
    clock = VirtualClock()
    group = PacingPolicy.telegram_group()
    budgets = Budgets.for_policy(group, clock)
    times = []
    for _ in range(45):
        await budgets.acquire("group", group)
        times.append(clock.now())
    burst = group.destination_burst
    spacing = group.destination_window / (group.destination_limit - burst)
    assert 0 < burst <= 3, "Telegram takes at most about 3 calls at once in one chat"
    assert times[:burst] == [0.0] * burst and times[burst] > 0
    assert all(later - earlier == pytest.approx(spacing) for earlier, later in itertools.pairwise(times[burst:]))
    assert all(sum(1 for other in times if t - 60.0 < other <= t) <= 20 for t in times)


async def test_turns_survive_cancelled_waiters() -> None:
    turns = Turns()
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with turns.hold(Priority.UPDATE):
            order.append("holder")
            await release.wait()

    async def waiter(name: str) -> None:
        async with turns.hold(Priority.UPDATE):
            order.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    doomed = asyncio.create_task(waiter("doomed"))
    survivor = asyncio.create_task(waiter("survivor"))
    await asyncio.sleep(0)
    doomed.cancel()
    release.set()
    await asyncio.gather(first, survivor)
    assert order == ["holder", "survivor"] and not turns.busy()

    # handed the turn at the moment it is cancelled: the turn is passed on, not lost
    async with turns.hold(Priority.UPDATE):
        late = asyncio.create_task(waiter("late"))
        after = asyncio.create_task(waiter("after"))
        await asyncio.sleep(0)
    late.cancel()
    await asyncio.gather(after, late, return_exceptions=True)
    assert order[-1] == "after" and not turns.busy()


def test_presets_are_valid_and_distinct() -> None:
    assert set(PRESETS) == {"telegram_private", "telegram_group", "discord_channel", "discord_webhook"}
    group = PacingPolicy.preset("telegram_group")
    assert (group.destination_limit, group.destination_window) == (20, 60.0)
    assert PacingPolicy.telegram_private().global_limit == 25
    assert PacingPolicy.discord_channel().global_limit == 40
    assert PacingPolicy.discord_webhook().destination_window == 2.0
    with pytest.raises(ValueError, match="unknown pacing preset"):
        PacingPolicy.preset("irc")


def test_overrides_from_a_preset_dict() -> None:
    policy = PacingPolicy.telegram_group().with_overrides({"min_interval": 5.0, "min_growth": 80.0})
    assert policy.min_interval == 5.0 and policy.min_growth == 80 and isinstance(policy.min_growth, int)
    assert policy.destination_limit == 20
    with pytest.raises(ValueError, match="unknown pacing fields: speed"):
        policy.with_overrides({"speed": 1.0})
    with pytest.raises(ValueError):
        policy.with_overrides({"min_growth": 2.5})
    with pytest.raises(ValueError):
        policy.with_overrides({"max_interval": 1.0})  # below min_interval
    with pytest.raises(ValueError):
        policy.with_overrides({"destination_window": 0.0})
