"""Readable tables of the runs: totals per strategy, then per-reply percentiles by chat kind."""

from __future__ import annotations

from collections.abc import Sequence

from bench.measure import ReplyFigures, percentile
from bench.workload import StrategyRun, Workload

SHARES = (0.5, 0.95, 1.0)  # p50, p95, max


def describe(workload: Workload) -> str:
    scale = workload.time_scale
    return (
        f"Workload: {workload.group_replies} replies at once in one group + {workload.private_chats} private chats"
        f" at the same time; replies {workload.min_chars}-{workload.max_chars} characters, streamed upstream as"
        f" +{workload.chunk_chars} characters every {workload.snapshot_interval:g} s.\n"
        f"Fake Telegram with flood control on (1/s per chat, burst 3; 20/min per group; 30/s global).\n"
        f"Time scale {scale:g}: every time below is in real-equivalent seconds (measured / {scale:g})."
    )


def totals_table(runs: Sequence[StrategyRun]) -> str:
    header = (
        f"{'strategy':<15}{'delivered':>10}{'429s':>7}{'penalties':>11}{'sends':>7}{'edits':>7}"
        f"{'typing':>8}{'wall s':>9}{'peak RSS MB':>13}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        delivered = sum(reply.delivered for reply in run.replies)
        calls = run.totals.calls
        wall = f"{run.wall / run.time_scale:.1f}" + ("!" if run.timed_out else "")
        lines.append(
            f"{run.strategy:<15}{f'{delivered}/{len(run.replies)}':>10}{run.totals.too_many_requests:>7}"
            f"{run.totals.penalties:>11}{calls.get('sendMessage', 0):>7}{calls.get('editMessageText', 0):>7}"
            f"{calls.get('sendChatAction', 0):>8}{wall:>9}{run.peak_rss_mb:>13.1f}"
        )
    return "\n".join(lines)


def replies_table(runs: Sequence[StrategyRun]) -> str:
    groups = ("first text s", "final lag s", "edits/reply", "edit calls/reply")
    top = f"{'':<15}{'chats':<9}" + "".join(f"{name:^21}" for name in groups)
    sub = f"{'strategy':<15}{'':<9}" + f"{'p50':>7}{'p95':>7}{'max':>7}" * len(groups)
    lines = [top, sub, "-" * len(sub)]
    for run in runs:
        for number, (kind, replies) in enumerate(_by_kind(run.replies)):
            name = run.strategy if number == 0 else ""
            scale = run.time_scale
            cells = (
                _percentiles([_real(r.first_visible, scale) for r in replies], 1),
                _percentiles([_real(r.final_visible, scale) for r in replies], 1),
                _percentiles([r.edits for r in replies], 0),
                _percentiles([r.edit_calls for r in replies], 0),
            )
            lines.append(f"{name:<15}{kind:<9}" + "".join(cells))
    return "\n".join(lines)


def render(workload: Workload, runs: Sequence[StrategyRun]) -> str:
    notes = (
        "delivered: replies whose message ends showing exactly the character's final text. 429s and penalties:\n"
        "the fake's counters (a penalty is a call made while a 429's retry_after still ran). sends/edits/typing:\n"
        "Bot API calls, refused ones included. wall: users' messages to the last final on screen ('!' = timed out).\n"
        "first text: user's message to the first visible bot text. final lag: the final leaving the Character.AI\n"
        "backend to that text on screen. edit calls: editMessageText calls on the reply, refused ones included.\n"
        "peak RSS: the whole process so far (it includes the strategies run before)."
    )
    return "\n\n".join([describe(workload), totals_table(runs), replies_table(runs), notes])


def _by_kind(replies: list[ReplyFigures]) -> list[tuple[str, list[ReplyFigures]]]:
    kinds = [(kind, [r for r in replies if r.kind == kind]) for kind in ("group", "private")]
    present = [(kind, found) for kind, found in kinds if found]
    return [*present, ("all", replies)] if len(present) > 1 else present


def _real(measured: float | None, scale: float) -> float | None:
    return None if measured is None else measured / scale


def _percentiles(values: Sequence[float | None], digits: int) -> str:
    present = [value for value in values if value is not None]
    cells = []
    for share in SHARES:
        found = percentile(present, share)
        cells.append(f"{'-' if found is None else f'{found:.{digits}f}':>7}")
    return "".join(cells)
