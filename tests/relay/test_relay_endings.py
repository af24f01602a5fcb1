"""How replies end: errors, failing or silent sources, cancellation, and a sink that keeps failing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.models import ReplyError, ReplyEvent, ReplyFinal, ReplySnapshot
from bot.relay import Budgets, NotModified, PacingPolicy, VirtualClock, error_notice, relay_reply

from .doubles import FakeChat, scripted

RULES = PacingPolicy(
    destination_limit=100, destination_window=1.0, global_limit=100,
    min_interval=1.0, max_interval=10.0, min_growth=0, typing_interval=4.0, idle_timeout=30.0,
)  # fmt: skip


def world() -> tuple[VirtualClock, FakeChat, Budgets]:
    clock = VirtualClock()
    return clock, FakeChat(clock), Budgets.for_policy(RULES, clock)


async def test_an_error_after_some_text_is_appended_to_it() -> None:
    clock, chat, budgets = world()
    error = ReplyError(code="filtered", message="The reply was filtered.")
    steps: list[tuple[float, ReplyEvent]] = [
        (1.0, ReplySnapshot(text="I was about to say ")),
        (2.0, ReplySnapshot(text="I was about to say something ")),
        (1.0, error),
    ]
    result = await relay_reply(scripted(clock, steps), chat.sink(), RULES, budgets)
    assert chat.shown() == ["I was about to say something\n\n⚠️ The reply was filtered."]
    assert chat.is_final() == [True]
    assert result.error_code == "filtered" and result.delivered
    assert result.final_text == chat.shown()[0]
    assert chat.violations == []


async def test_an_error_before_any_text_is_sent_alone_and_typing_stops() -> None:
    clock, chat, budgets = world()
    error = ReplyError(code="unavailable", message="Character.AI is not answering right now.")
    result = await relay_reply(scripted(clock, [(9.0, error)]), chat.sink(), RULES, budgets)
    assert chat.shown() == [error_notice(error)] and chat.of("send")[0].at == 9.0
    assert [call.at for call in chat.of("typing")] == [0.0, 4.0, 8.0]
    await clock.sleep(100.0)  # nothing keeps typing afterwards
    assert len(chat.of("typing")) == 3
    assert result.error_code == "unavailable" and result.final_visible_after == 0.0


async def test_a_source_that_raises_ends_the_reply_with_an_error_message() -> None:
    clock, chat, budgets = world()
    closed: list[bool] = []

    async def source() -> AsyncIterator[ReplyEvent]:
        try:
            await clock.sleep(1.0)
            yield ReplySnapshot(text="Half a thought")
            await clock.sleep(1.0)
            raise ConnectionError("upstream went away")
        finally:
            closed.append(True)

    result = await relay_reply(source(), chat.sink(), RULES, budgets)
    assert chat.shown()[0].startswith("Half a thought\n\n⚠️ ")
    assert result.error_code == "internal" and result.delivered and closed == [True]


async def test_a_source_cancelled_from_elsewhere_ends_the_reply_with_an_error_message() -> None:
    clock, chat, budgets = world()

    async def source() -> AsyncIterator[ReplyEvent]:
        await clock.sleep(1.0)
        yield ReplySnapshot(text="Going")
        raise asyncio.CancelledError  # e.g. the upstream session was torn down

    result = await relay_reply(source(), chat.sink(), RULES, budgets)
    assert result.error_code == "cancelled"
    assert chat.shown() == ["Going\n\n⚠️ This reply was interrupted."]


async def test_a_silent_source_times_out_and_is_closed() -> None:
    clock, chat, budgets = world()
    closed: list[bool] = []
    steps: list[tuple[float, ReplyEvent]] = [(0.5, ReplySnapshot(text="Hmm")), (10_000.0, ReplyFinal(text="late"))]
    result = await relay_reply(scripted(clock, steps, closed), chat.sink(), RULES, budgets)
    assert result.error_code == "timeout" and closed == [True]
    assert chat.of("edit")[-1].at == 30.5 and chat.shown() == ["Hmm\n\n⚠️ The character took too long to answer."]


async def test_a_source_that_ends_without_a_final_finishes_with_its_last_snapshot() -> None:
    clock, chat, budgets = world()
    result = await relay_reply(scripted(clock, [(1.0, ReplySnapshot(text="All I had."))]), chat.sink(), RULES, budgets)
    assert chat.shown() == ["All I had."] and chat.is_final() == [True] and result.error_code is None


async def test_an_empty_final_becomes_an_error() -> None:
    clock, chat, budgets = world()
    result = await relay_reply(scripted(clock, [(1.0, ReplyFinal(text="  \n"))]), chat.sink(), RULES, budgets)
    assert result.error_code == "empty" and chat.shown() == ["⚠️ The character sent an empty reply."]


async def test_cancelling_the_relay_stops_typing_and_closes_the_source() -> None:
    clock, chat, budgets = world()
    closed: list[bool] = []
    steps: list[tuple[float, ReplyEvent]] = [(1_000.0, ReplySnapshot(text="never"))]
    task = asyncio.create_task(relay_reply(scripted(clock, steps, closed), chat.sink(), RULES, budgets))
    await clock.sleep(10.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    typed = len(chat.of("typing"))
    assert typed == 3 and closed == [True]
    await clock.sleep(100.0)
    assert len(chat.of("typing")) == typed and chat.messages == {}


async def test_a_transient_edit_failure_is_retried() -> None:
    clock, chat, budgets = world()
    failures = [RuntimeError("502 bad gateway")]
    chat.edit_failures = lambda message, text, final: failures.pop() if failures else None
    steps: list[tuple[float, ReplyEvent]] = [
        (0.0, ReplySnapshot(text="One")),
        (2.0, ReplySnapshot(text="One two")),
        (5.0, ReplyFinal(text="One two three.")),
    ]
    result = await relay_reply(scripted(clock, steps), chat.sink(), RULES, budgets)
    assert result.failures == 1 and result.delivered
    assert chat.shown() == ["One two three."]
    failed = [call for call in chat.calls if call.outcome == "failed"]
    retried = [call for call in chat.of("edit") if call.text == "One two"]
    assert retried[0].at == failed[0].at + RULES.retry_delay


async def test_when_the_final_edit_keeps_failing_the_rest_goes_in_a_new_message() -> None:
    clock, chat, budgets = world()
    chat.edit_failures = lambda message, text, final: RuntimeError("message can't be edited") if final else None
    final = "The streamed beginning, and then the ending that arrived last."
    steps: list[tuple[float, ReplyEvent]] = [
        (0.0, ReplySnapshot(text="The streamed beginning,")),
        (3.0, ReplyFinal(text=final)),
    ]
    result = await relay_reply(scripted(clock, steps), chat.sink(), RULES, budgets)
    assert chat.shown() == ["The streamed beginning,", " and then the ending that arrived last."]
    assert "".join(chat.shown()) == final and result.delivered
    assert result.failures == RULES.max_attempts and chat.is_final() == [False, True]


async def test_not_modified_counts_as_done() -> None:
    clock, chat, budgets = world()
    chat.edit_failures = lambda message, text, final: NotModified() if not final else None
    steps: list[tuple[float, ReplyEvent]] = [
        (0.0, ReplySnapshot(text="a")),
        (2.0, ReplySnapshot(text="a b")),
        (2.0, ReplySnapshot(text="a b c")),
        (2.0, ReplyFinal(text="a b c d")),
    ]
    result = await relay_reply(scripted(clock, steps), chat.sink(), RULES, budgets)
    assert result.not_modified == 2 and result.failures == 0 and result.edits == 1
    assert chat.shown() == ["a b c d"]


async def test_a_send_that_keeps_failing_is_reported_not_hidden() -> None:
    clock, _chat, budgets = world()

    class Blocked:
        destination, max_length = "telegram:42", 4096

        async def send(self, text: str, *, final: bool) -> int:
            raise PermissionError("403: bot was blocked by the user")

        async def edit(self, handle: int, text: str, *, final: bool) -> None:
            raise AssertionError("nothing was sent, so nothing can be edited")

        async def typing(self) -> None:
            pass

    result = await relay_reply(scripted(clock, [(0.0, ReplyFinal(text="hello"))]), Blocked(), RULES, budgets)
    assert not result.delivered and result.failures == RULES.max_attempts and result.handles == []
