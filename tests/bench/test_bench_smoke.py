"""The streaming benchmark's workload in its smallest configuration: every strategy runs end to end on the
fakes and gives well-formed figures. No timing is asserted (figures are for bench/streaming.py to print)."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bench.baselines import cutoff
from bench.measure import percentile
from bench.replies import reply_text
from bench.report import render
from bench.workload import (
    SMOKE,
    STRATEGIES,
    StrategyName,
    StrategyRun,
    Workload,
    run_strategy,
    scripted_replies,
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runs() -> dict[StrategyName, StrategyRun]:
    """Each strategy once on the smallest workload (each on fresh fakes)."""
    return {strategy: await run_strategy(strategy, SMOKE) for strategy in STRATEGIES}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_smallest_workload_gives_well_formed_figures(
    strategy: StrategyName, runs: dict[StrategyName, StrategyRun]
) -> None:
    run = runs[strategy]
    assert run.strategy == strategy and not run.timed_out
    assert [reply.kind for reply in run.replies] == ["group"] * SMOKE.group_replies + ["private"] * SMOKE.private_chats
    assert len(run.replies) == SMOKE.replies
    assert sorted(reply.length for reply in run.replies) == sorted(len(text) for text in scripted_replies(SMOKE))
    for reply in run.replies:
        assert reply.delivered, f"{strategy}: a {reply.kind} reply was not delivered in full"
        assert reply.messages == 1  # replies this short fit one message
        for count in (reply.edits, reply.edit_calls):
            assert isinstance(count, int) and count >= 0
        assert reply.edit_calls >= reply.edits  # refused edits are calls too
        assert reply.first_visible is not None and reply.first_visible >= 0
        assert reply.final_visible is not None and reply.final_visible >= 0
    totals = run.totals
    assert all(
        isinstance(n, int) and n >= 0 for n in (*totals.calls.values(), totals.too_many_requests, totals.penalties)
    )
    assert totals.penalties <= totals.too_many_requests  # every penalty is answered with a 429
    assert totals.calls["sendMessage"] >= SMOKE.replies
    assert totals.calls["editMessageText"] >= sum(reply.edit_calls for reply in run.replies)
    assert run.wall > 0 and run.peak_rss_mb > 0


def test_the_report_has_a_row_per_strategy_and_chat_kind(runs: dict[StrategyName, StrategyRun]) -> None:
    text = render(SMOKE, list(runs.values()))
    assert "real-equivalent seconds" in text
    for strategy in STRATEGIES:
        assert sum(line.startswith(strategy) for line in text.splitlines()) == 2  # totals row, replies row
    assert sum(line.split()[0] in ("private", "all") for line in text.splitlines() if line.startswith(" ")) == 6


def test_percentiles_are_nearest_rank() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.95) == 5.0
    assert percentile(values, 1.0) == 5.0
    assert percentile([], 0.5) is None


def test_char_cutoffs_grow_with_the_message_and_are_larger_in_groups() -> None:
    assert [cutoff(n, group=False) for n in (0, 51, 201, 1001)] == [15, 25, 45, 90]
    assert [cutoff(n, group=True) for n in (0, 51, 201, 1001)] == [50, 90, 120, 180]


def test_workload_replies_differ_and_fit_their_lengths() -> None:
    workload = Workload(group_replies=3, private_chats=2, min_chars=100, max_chars=500)
    assert workload.lengths() == [100, 200, 300, 400, 500]
    texts = scripted_replies(workload)
    assert len(set(texts)) == len(texts)
    wanted = [100, 300, 500, 200, 400]  # short and long alternate between the group and the private chats
    assert all(0.8 * length <= len(text) <= length for text, length in zip(texts, wanted, strict=True))
    assert reply_text(250, seed=3) == reply_text(250, seed=3)
    with pytest.raises(ValueError):
        Workload(min_chars=500, max_chars=100)
