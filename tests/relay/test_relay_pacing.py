"""relay_reply on a virtual clock against an enforcing fake chat: how and when text reaches the screen."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator

from bot.models import ReplyError, ReplyEvent, ReplyFinal, ReplySnapshot
from bot.relay import Budgets, PacingPolicy, VirtualClock, relay_reply

from .doubles import Call, FakeChat, growing, scripted


def policy(**changes: float) -> PacingPolicy:
    base = PacingPolicy(
        destination_limit=100, destination_window=1.0, global_limit=100,
        min_interval=1.0, max_interval=10.0, min_growth=0, typing_interval=4.0,
    )  # fmt: skip
    return base.with_overrides(changes)


def prose(seed: int, size: int) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    while sum(len(word) + 1 for word in words) < size:
        word = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 9)))
        words.append(word + rng.choice([".", "", "", ",", "!\n\n", "\n"]) if rng.random() < 0.2 else word)
    return " ".join(words)[:size]


async def test_first_text_is_visible_as_soon_as_it_exists_and_typing_stops() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock, limit=1, window=1.0)
    tg_private = PacingPolicy.telegram_private()
    steps: list[tuple[float, ReplyEvent]] = [
        (10.0, ReplySnapshot(text="Hello")),
        (3.0, ReplyFinal(text="Hello there, my friend.")),
    ]
    result = await relay_reply(scripted(clock, steps), chat.sink(), tg_private, Budgets.for_policy(tg_private, clock))

    first = chat.of("send")[0]
    assert (first.at, first.text, first.final) == (10.0, "Hello", False)
    assert result.first_visible_after == 10.0
    assert [call.at for call in chat.of("typing")] == [0.0, 4.5, 9.0]  # kept alive, then stopped
    assert chat.shown() == ["Hello there, my friend."] and chat.is_final() == [True]
    assert result.delivered and result.final_text == "Hello there, my friend."
    assert result.final_visible_after == 0.0  # the interval had long elapsed when the final came
    assert chat.violations == [] and result.rate_limited == 0
    await clock.sleep(60)
    assert len(chat.of("typing")) == 3


async def test_a_reply_that_is_complete_at_once_is_sent_final_in_one_call() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock)
    rules = policy()
    result = await relay_reply(
        scripted(clock, [(0.0, ReplyFinal(text="Short answer."))]), chat.sink(), rules, Budgets.for_policy(rules, clock)
    )
    writes = [(call.kind, call.text, call.final) for call in chat.calls if call.kind != "typing"]
    assert writes == [("send", "Short answer.", True)]
    assert result.sends == 1 and result.edits == 0


async def test_snapshots_are_coalesced_and_no_edit_repeats_the_text() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock, limit=100, window=1.0)
    rules = policy(min_interval=1.0)
    text = prose(1, 1000)
    steps: list[tuple[float, ReplyEvent]] = []
    timeline: list[tuple[float, str]] = []
    now = 0.0
    for end in range(5, len(text) + 1, 5):
        for _ in range(2):  # every snapshot arrives twice, like a re-published one
            now += 0.025
            steps.append((0.025, ReplySnapshot(text=text[:end])))
            timeline.append((now, text[:end]))
    steps.append((0.5, ReplyFinal(text=text)))
    timeline.append((now + 0.5, text))

    result = await relay_reply(scripted(clock, steps), chat.sink(), rules, Budgets.for_policy(rules, clock))

    writes = [call for call in chat.calls if call.kind in ("send", "edit")]
    assert chat.violations == [] and result.not_modified == 0
    assert len(writes) <= now / rules.min_interval + 3  # 400 snapshots, ~one update per interval
    for call in writes:  # each update shows the newest text of its moment
        newest = [snapshot for at, snapshot in timeline if at <= call.at][-1]
        assert call.text == newest
    for earlier, later in itertools.pairwise(writes):
        assert later.at - earlier.at >= rules.min_interval - 1e-9
        assert later.text != earlier.text or later.final
    assert chat.shown() == [text] and result.delivered


async def test_small_growth_waits_for_the_threshold_or_the_end() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock)
    rules = policy(min_growth=50)
    text = "x" * 40
    result = await relay_reply(
        scripted(clock, growing(text, 1, 0.5)), chat.sink(), rules, Budgets.for_policy(rules, clock)
    )
    assert [(call.kind, call.text) for call in chat.calls if call.kind != "typing"] == [
        ("send", "x"),
        ("edit", text),  # 39 characters of growth never reached 50: only the final
    ]
    assert result.edits == 1


async def test_five_streams_in_one_group_share_the_budget_without_a_429() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock, limit=20, window=60.0)  # Telegram's group rule, typing included
    rules = PacingPolicy.telegram_group()
    budgets = Budgets.for_policy(rules, clock)
    texts = [prose(10 + n, 1500 + 300 * n) for n in range(5)]

    timelines: list[list[tuple[float, str]]] = [[] for _ in range(5)]

    async def recorded(n: int, events: AsyncIterator[ReplyEvent]) -> AsyncIterator[ReplyEvent]:
        async for event in events:
            timelines[n].append((clock.now(), event.text if not isinstance(event, ReplyError) else ""))
            yield event

    async def stream(n: int) -> None:
        await clock.sleep(n * 0.7)
        events = recorded(n, scripted(clock, growing(texts[n], 30, 0.5, first_after=1.0 + n)))
        result = await relay_reply(events, chat.sink(f"s{n}"), rules, budgets)
        assert result.delivered

    await asyncio.gather(*(stream(n) for n in range(5)))

    assert [call for call in chat.calls if call.outcome == "429"] == [] and chat.violations == []
    times = [call.at for call in chat.calls]
    assert all(sum(1 for other in times if t - 60.0 < other <= t) <= 20 for t in times)
    for n, text in enumerate(texts):
        assert chat.text_of(f"s{n}") == text
    assert all(chat.is_final())
    for n in range(5):  # after waiting for a slot, each update shows the newest text of its moment
        own = [call for call in chat.calls if call.stream == f"s{n}" and call.kind != "typing"]
        parts_so_far: dict[int, str] = {}
        for call in own:
            assert call.message is not None
            parts_so_far[call.message] = call.text
            shown = "".join(parts_so_far[m] for m in sorted(parts_so_far))
            # the newest snapshot before this moment, or one arriving at the very same moment
            allowed = [text for at, text in timelines[n] if at < call.at][-1:]
            allowed += [text for at, text in timelines[n] if at == call.at]
            assert any(text.startswith(shown) and text.endswith(call.text) for text in allowed)
    for n in range(5):  # a first text never waits behind another reply's intermediate edit
        available = n * 0.7 + 1.0 + n
        first_at = chat.of("send", f"s{n}")[0].at
        assert not [c for c in chat.of("edit") if available < c.at < first_at and not c.final], n


async def test_after_a_429_nothing_touches_the_destination_before_retry_after() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock, limit=100, window=1.0)
    rules = policy(min_interval=1.0, interval_decay=1.0)
    budgets = Budgets.for_policy(rules, clock)
    text = prose(3, 600)

    async def source() -> AsyncIterator[ReplyEvent]:
        for index, end in enumerate(range(20, len(text) + 1, 20)):
            await clock.sleep(0.5)
            if index == 4:
                chat.forced_rate_limits.append(7.0)  # the next call, whoever makes it, gets a 429
            yield ReplySnapshot(text=text[:end])
        yield ReplyFinal(text=text)

    other_text = prose(4, 300)
    results = await asyncio.gather(
        relay_reply(source(), chat.sink("a"), rules, budgets),
        relay_reply(scripted(clock, growing(other_text, 10, 0.3, first_after=2.2)), chat.sink("b"), rules, budgets),
    )

    limited = [call for call in chat.calls if call.outcome == "429"]
    assert len(limited) == 1 and chat.violations == []
    hit = limited[0].at
    assert not [call for call in chat.calls if hit < call.at < hit + 7.0]
    assert [call for call in chat.calls if call.at == hit + 7.0], "it went on right when allowed"
    assert all(result.delivered for result in results)
    assert sum(result.rate_limited for result in results) == 1
    hit_stream = limited[0].stream
    after = [call.at for call in chat.calls if call.stream == hit_stream and call.at >= hit + 7.0]
    gaps = [later - earlier for earlier, later in itertools.pairwise(after)]
    assert gaps and min(gaps) >= 1.5 * rules.min_interval  # that stream's interval was widened
    assert chat.text_of("a") == text


async def test_the_final_gets_through_repeated_429s() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock)
    rules = policy()

    async def source() -> AsyncIterator[ReplyEvent]:
        yield ReplySnapshot(text="Partial")
        await clock.sleep(2.0)
        chat.forced_rate_limits.extend([3.0, 3.0, 3.0, 3.0])
        yield ReplyFinal(text="Partial and complete.")

    result = await relay_reply(source(), chat.sink(), rules, Budgets.for_policy(rules, clock))
    assert result.rate_limited == 4 and result.delivered and chat.violations == []
    assert chat.shown() == ["Partial and complete."] and chat.is_final() == [True]
    assert result.final_visible_after == 12.0


async def test_a_global_429_holds_other_destinations_too() -> None:
    clock = VirtualClock()
    first, second = FakeChat(clock, key="a"), FakeChat(clock, key="b")
    first.forced_global = True
    rules = policy()
    budgets = Budgets.for_policy(rules, clock)

    async def source() -> AsyncIterator[ReplyEvent]:
        await clock.sleep(0.5)
        first.forced_rate_limits.append(5.0)  # the send of "A" gets a platform-wide 429
        yield ReplyFinal(text="A")

    async def later() -> object:
        await clock.sleep(1.0)
        return await relay_reply(scripted(clock, [(0.0, ReplyFinal(text="B"))]), second.sink(), rules, budgets)

    await asyncio.gather(relay_reply(source(), first.sink(), rules, budgets), later())
    assert [call.at for call in first.calls if call.kind == "send"] == [0.5, 5.5]
    assert [call.at for call in second.calls if call.kind == "send"] == [5.5]


async def test_ten_thousand_characters_become_three_messages_that_join_exactly() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock, max_length=4096, limit=5, window=5.0)
    rules = PacingPolicy.discord_channel()
    text = prose(5, 10_000)
    result = await relay_reply(
        scripted(clock, growing(text, 250, 0.2)), chat.sink(), rules, Budgets.for_policy(rules, clock)
    )
    assert len(chat.shown()) == 3 and "".join(chat.shown()) == text
    assert chat.is_final() == [True, True, True]
    assert result.texts == chat.shown() and len(result.handles) == 3 and result.delivered
    assert chat.violations == [] and all(len(call.text) <= 4096 for call in chat.calls)


def _writes(calls: list[Call]) -> list[tuple[str, int | None, bool]]:
    return [(call.kind, call.message, call.final) for call in calls if call.kind != "typing"]


async def test_a_full_part_is_finished_before_the_text_goes_on_in_a_new_message() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock, max_length=100)
    rules = policy(min_interval=0.0)
    text = "First paragraph, long enough to fill half a message.\n\n" + "Second part " * 10
    await relay_reply(scripted(clock, growing(text, 40, 1.0)), chat.sink(), rules, Budgets.for_policy(rules, clock))
    writes = _writes(chat.calls)
    split_at = writes.index(("send", 2, False))
    assert writes[split_at - 1] == ("edit", 1, True)  # message 1 was frozen with its final text first
    assert chat.shown()[0] == "First paragraph, long enough to fill half a message.\n\n"
    assert "".join(chat.shown()) == text


async def test_runs_on_the_real_loop_clock_by_default() -> None:
    chat = FakeChat(VirtualClock())  # only its rules; its window is wide enough for real time
    rules = policy(min_interval=0.001, typing_interval=0.001, destination_window=0.001)

    async def source() -> AsyncIterator[ReplyEvent]:
        for end in range(1, 6):
            await asyncio.sleep(0.001)
            yield ReplySnapshot(text="word " * end)
        yield ReplyFinal(text="word " * 6)

    result = await relay_reply(source(), chat.sink(), rules, Budgets.for_policy(rules))
    assert result.delivered and chat.shown() == ["word " * 6]


async def test_an_unchanged_last_part_is_still_finished_with_final_true() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock)
    rules = policy()
    steps: list[tuple[float, ReplyEvent]] = [
        (0.0, ReplySnapshot(text="Complete sentence.")),
        (5.0, ReplyFinal(text="Complete sentence.")),
    ]
    await relay_reply(scripted(clock, steps), chat.sink(), rules, Budgets.for_policy(rules, clock))
    assert _writes(chat.calls) == [("send", 1, False), ("edit", 1, True)]  # the sink may format it now
    assert chat.violations == []


async def test_a_short_429_is_retried_right_when_it_ends_not_after_the_widened_interval() -> None:
    clock = VirtualClock()
    chat = FakeChat(clock)
    rules = policy(min_interval=1.0, interval_decay=1.0)

    async def source() -> AsyncIterator[ReplyEvent]:
        yield ReplySnapshot(text="one")
        await clock.sleep(1.0)
        yield ReplySnapshot(text="one two")
        await clock.sleep(1.0)
        chat.forced_rate_limits.append(0.25)
        yield ReplySnapshot(text="one two three")
        await clock.sleep(5.0)
        yield ReplyFinal(text="one two three four")

    await relay_reply(source(), chat.sink(), rules, Budgets.for_policy(rules, clock))
    hit = next(call for call in chat.calls if call.outcome == "429")
    retry = next(call for call in chat.of("edit") if call.text == "one two three")
    assert retry.at == hit.at + 0.25
    final = chat.of("edit")[-1]
    assert final.final and final.at == 7.0
