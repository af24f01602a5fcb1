"""The streaming workload and one run of it per strategy, each on fresh fakes.

The workload: ``group_replies`` users ask the bot for a long story in one supergroup (by @mention) and
``private_chats`` users ask in their private chats, all at the same moment. The fake Character.AI answers
each with a scripted role-play reply (lengths spread evenly from ``min_chars`` to ``max_chars``), streamed
as snapshots of ``chunk_chars`` more characters every ``snapshot_interval`` seconds. Telegram's real flood
limits apply (1 call/s per chat with a burst of 3, 20/min per group, 30/s in all), scaled in time.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bench.baselines import EveryInterval, EveryNewChars, Streamer
from bench.measure import CallTotals, ReplyFigures, Request, call_totals, is_delivered, reply_figures
from bench.replies import reply_text
from bench.world import BOT_USERNAME, CHARACTER, BenchWorld, open_world

StrategyName = Literal["relay", "every-1s", "every-n-chars"]
STRATEGIES: tuple[StrategyName, ...] = ("relay", "every-1s", "every-n-chars")


class Workload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    group_replies: int = Field(default=5, ge=0, description="concurrent replies in one group")
    private_chats: int = Field(default=3, ge=0, description="private chats answered at the same time")
    min_chars: int = Field(default=1500, ge=20, le=4096)
    max_chars: int = Field(default=3000, ge=20, le=4096)
    chunk_chars: int = Field(default=64, ge=1, description="characters added per upstream snapshot")
    snapshot_interval: float = Field(default=0.4, gt=0, description="real seconds between upstream snapshots")
    edit_interval: float = Field(default=1.0, gt=0, description="real seconds between edits, 'every-1s' baseline")
    upstream_connections: int | None = Field(
        default=None, ge=1, description="Character.AI DM sockets; None = one per reply, so all stream at once"
    )
    time_scale: float = Field(default=0.25, gt=0, le=1, description="measured seconds per real second")
    timeout: float = Field(default=900.0, gt=0, description="real seconds a strategy may take before giving up")

    @model_validator(mode="after")
    def _length_range(self) -> Self:
        if self.max_chars < self.min_chars:
            raise ValueError("max_chars must be >= min_chars")
        return self

    @property
    def replies(self) -> int:
        return self.group_replies + self.private_chats

    def lengths(self) -> list[int]:
        """Reply lengths, evenly spread over [min_chars, max_chars]."""
        count = self.replies
        if count <= 1:
            return [self.max_chars] * count
        return [self.min_chars + (self.max_chars - self.min_chars) * i // (count - 1) for i in range(count)]


FULL = Workload()
QUICK = Workload(group_replies=3, private_chats=2, min_chars=600, max_chars=1200, time_scale=0.1)
SMOKE = Workload(group_replies=1, private_chats=1, min_chars=200, max_chars=300, time_scale=0.05)


class StrategyRun(BaseModel):
    """What one strategy did with the workload. Times are measured seconds; divide by ``time_scale`` for
    real-equivalent ones."""

    strategy: StrategyName
    time_scale: float
    replies: list[ReplyFigures]
    totals: CallTotals
    wall: float  # from the users' messages until every reply was final on screen (or the timeout)
    timed_out: bool
    peak_rss_mb: float  # the process's peak so far (it includes earlier strategies of the same process)


def streamer_for(strategy: StrategyName, workload: Workload) -> Streamer | None:
    """The baseline to stream with, or None for the product's relay."""
    factories: dict[StrategyName, Callable[[], Streamer | None]] = {
        "relay": lambda: None,
        "every-1s": lambda: EveryInterval(interval=workload.edit_interval * workload.time_scale),
        "every-n-chars": EveryNewChars,
    }
    return factories[strategy]()


async def run_strategy(strategy: StrategyName, workload: Workload) -> StrategyRun:
    """Run the workload once through ``strategy``, on fakes of its own."""
    scale = workload.time_scale
    with tempfile.TemporaryDirectory(prefix="charbridge-bench-") as data_dir:
        world = await open_world(
            Path(data_dir), scale=scale, chunk_chars=workload.chunk_chars,
            snapshot_delay=workload.snapshot_interval, connections=workload.upstream_connections or workload.replies,
            streamer=streamer_for(strategy, workload),
        )  # fmt: skip
        try:
            started = time.monotonic()
            requests = _post_requests(world, workload)
            finals = world.upstream.finals
            timed_out = False
            try:
                await world.telegram.wait_for(
                    lambda: all(is_delivered(world.telegram, r, finals) for r in requests),
                    timeout=workload.timeout * scale,
                )
            except TimeoutError:
                timed_out = True
            wall = time.monotonic() - started
            replies = [reply_figures(world.telegram, request, finals) for request in requests]
            totals = call_totals(world.telegram)
        finally:
            await world.close()
    return StrategyRun(
        strategy=strategy, time_scale=scale, replies=replies, totals=totals, wall=wall, timed_out=timed_out,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )  # fmt: skip


def scripted_replies(workload: Workload) -> list[str]:
    """The replies the fake Character.AI gives, in the order it hands them out (the order requests reach
    it). The group asks first, so short and long ones alternate to give both chat kinds a spread."""
    lengths = workload.lengths()
    return [reply_text(length, seed) for seed, length in enumerate(lengths[::2] + lengths[1::2])]


def _post_requests(world: BenchWorld, workload: Workload) -> list[Request]:
    """Script the replies, then send every user's message at once."""
    texts = scripted_replies(workload)
    if len(set(texts)) != len(texts):
        raise ValueError("the workload's replies must all differ (they are told apart by their text)")
    for text in texts:
        world.cai.script_reply(CHARACTER, text)
    tg = world.telegram
    group_users = [tg.add_user(f"Guest{i}") for i in range(workload.group_replies)]
    private_users = [tg.add_user(f"Visitor{i}") for i in range(workload.private_chats)]
    requests: list[Request] = []
    if group_users:
        group = tg.add_group("Bench tavern", members=group_users, bots=[BOT_USERNAME], supergroup=True)
        for user in group_users:
            prompt = f"{user.first_name} asks: tell me the whole story of the lantern on the hill"
            requests.append(Request("group", prompt, tg.user_sends(group, user, f"@{BOT_USERNAME} {prompt}")))
    for user in private_users:
        prompt = f"{user.first_name} asks: what is under the old mill?"
        requests.append(Request("private", prompt, tg.user_sends(tg.private_chat(user), user, prompt)))
    return requests
