"""Destinations that share one platform limit (a Discord channel's webhooks): the relay's shared pools."""

from __future__ import annotations

import asyncio
import itertools

from bot.relay import Budgets, PacingPolicy, VirtualClock, relay_reply

from .doubles import Call, FakeChat, growing, scripted

SHARED_LIMIT, SHARED_WINDOW = 6, 10.0


def rules(**overrides: float) -> PacingPolicy:
    base = PacingPolicy(
        destination_limit=5, destination_window=1.0, global_limit=100,
        min_interval=0.2, max_interval=2.0, min_growth=1, typing_interval=100.0,
        shared_limit=SHARED_LIMIT, shared_window=SHARED_WINDOW,
    )  # fmt: skip
    return base.with_overrides(overrides)


def most_in_any_window(calls: list[Call], window: float) -> int:
    times = sorted(call.at for call in calls if call.kind != "typing")
    return max((sum(1 for other in times if t - window < other <= t) for t in times), default=0)


async def stream_into_three_webhooks(policy: PacingPolicy, shared: str | None) -> list[FakeChat]:
    clock = VirtualClock()
    hooks = [FakeChat(clock, key=f"discord:webhook:{n}", limit=5, window=1.0) for n in range(3)]
    budgets = Budgets.for_policy(policy, clock)
    texts = [f"reply number {n}, growing slowly " * 2 for n in range(3)]

    async def stream(n: int) -> None:
        events = scripted(clock, growing(texts[n], 8, 0.3))
        result = await relay_reply(events, hooks[n].sink(), policy, budgets, shared=shared)
        assert result.delivered and hooks[n].text_of("") == texts[n]

    await asyncio.gather(*(stream(n) for n in range(3)))
    return hooks


async def test_three_webhooks_of_one_channel_stay_under_the_shared_cap_together() -> None:
    hooks = await stream_into_three_webhooks(rules(), "discord:channel:1")
    every_call = [call for hook in hooks for call in hook.calls]
    assert most_in_any_window(every_call, SHARED_WINDOW) <= SHARED_LIMIT
    assert all(hook.violations == [] for hook in hooks)


async def test_without_the_pool_the_same_streams_go_over_it() -> None:
    """The check above can fail: each webhook alone respects its own window, together they do not."""
    for policy, shared in ((rules(shared_limit=0), "discord:channel:1"), (rules(), None)):
        hooks = await stream_into_three_webhooks(policy, shared)
        every_call = [call for hook in hooks for call in hook.calls]
        assert most_in_any_window(every_call, SHARED_WINDOW) > SHARED_LIMIT


async def test_a_pool_spreads_calls_out_after_its_burst() -> None:
    clock = VirtualClock()
    hook = FakeChat(clock, key="discord:webhook:9", limit=100, window=1.0)
    policy = rules(shared_limit=6, shared_window=6.0, shared_burst=2)  # then one call per 1.5 s
    budgets = Budgets.for_policy(policy, clock)
    text = "a long reply that keeps on growing " * 4
    result = await relay_reply(scripted(clock, growing(text, 10, 0.2)), hook.sink(), policy, budgets, shared="c")
    assert result.delivered and hook.text_of("") == text
    times = [call.at for call in hook.calls if call.kind != "typing"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[2:])]
    assert gaps and min(gaps) >= 1.5 - 1e-9


async def test_a_429_can_block_a_pool() -> None:
    clock = VirtualClock()
    policy = rules()
    budgets = Budgets.for_policy(policy, clock)
    await budgets.acquire("discord:webhook:1", policy, shared="discord:channel:1")
    budgets.block("discord:channel:1", 4.0)
    await budgets.acquire("discord:webhook:2", policy, shared="discord:channel:1")
    assert clock.now() >= 4.0
    await budgets.acquire("discord:webhook:3", policy)  # outside the pool: not blocked
    assert clock.now() < 4.0 + 1e-9
