"""The serial worker of a room: every turn of one key (a group room, or a channel of one-on-one NPCs) runs
through the room queue one at a time, in arrival order. Turns waiting in line may be merged into the
next one (``merge_queued``), and whoever follows a turn can be told that it is queued.

Merging happens inside this process only: it looks at the turns waiting here.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field

from bot.models import NpcCharacter
from bot.npc.items import NpcItem, NpcNotice, queued_text
from bot.npc.turns import INTERNAL, Place, Spoken, TurnRunner, TurnSpec
from bot.ports import RoomQueue, StoreUnavailable
from bot.unavailable import STORE_DOWN_TEXT
from bot.upstream.base import UpstreamError

log = logging.getLogger("charbridge.npc")


@dataclass(eq=False)
class Job:
    """One turn waiting for (or taking) its room's worker. ``lines`` are what the characters are told, one
    per user message (None: a scene turn in a room, where the previous NPC turn already stands)."""

    place: Place
    targets: tuple[NpcCharacter, ...]
    lines: list[str] | None
    user_id: str
    scene: bool = False
    mergeable: bool = False
    items: asyncio.Queue[NpcItem | None] = field(default_factory=asyncio.Queue)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    spoken: list[Spoken] = field(default_factory=list)
    merged: bool = False  # taken into an earlier turn: nothing of its own to show

    def takes(self, other: Job) -> bool:
        """``other`` (waiting behind this one) can be said in this turn."""
        return (
            self.mergeable
            and other.mergeable
            and not other.scene
            and self.lines is not None
            and other.lines is not None
            and other.place.conversation == self.place.conversation
            and [n.character_id for n in other.targets] == [n.character_id for n in self.targets]
        )


class RoomWorker:
    def __init__(self, queue: RoomQueue, runner: TurnRunner) -> None:
        self._queue = queue
        self._runner = runner
        self._lines: dict[str, list[Job]] = {}  # waiting, oldest first
        self._running: dict[str, Job] = {}
        self.arrivals: Counter[str] = Counter()  # user turns submitted per key (scenes yield to new ones)
        self._background: set[asyncio.Task[object]] = set()

    def submit(self, key: str, job: Job) -> None:
        """Put the job in the key's line. Synchronous, so the call order is the line order."""
        self._lines.setdefault(key, []).append(job)
        if not job.scene:
            self.arrivals[key] += 1
        self._keep(self._queue.run(key, lambda: self._run(key, job)))

    def ahead(self, key: str, job: Job) -> int:
        line = self._lines.get(key, [])
        waiting = line.index(job) if job in line else 0
        return waiting + (1 if key in self._running else 0)

    def busy(self, key: str) -> bool:
        return bool(self._lines.get(key)) or key in self._running

    async def follow(self, key: str, job: Job, notice_after: float | None) -> AsyncIterator[NpcItem]:
        """The job's items as they come: a queued notice if it waits longer than ``notice_after``, then its
        replies (and notices) until the turn ends."""
        if notice_after is not None and not job.started.is_set():
            try:
                await asyncio.wait_for(job.started.wait(), notice_after)
            except TimeoutError:
                if not job.started.is_set():
                    yield NpcNotice(kind="queued", text=queued_text(self.ahead(key, job)))
        while True:
            item = await job.items.get()
            if item is None:
                return
            yield item

    async def _run(self, key: str, job: Job) -> None:
        line = self._lines.get(key, [])
        if job in line:
            line.remove(job)
        if job.merged:
            self._tidy(key)
            return
        batch = [job]
        while line and job.takes(line[0]):
            follower = line.pop(0)
            follower.merged = True
            follower.started.set()
            follower.items.put_nowait(None)
            batch.append(follower)
        self._running[key] = job
        job.started.set()
        lines = None if job.lines is None else [text for member in batch for text in member.lines or []]
        spec = TurnSpec(
            targets=job.targets,
            text=None if lines is None else "\n".join(lines),
            user_id=batch[-1].user_id,
            scene=job.scene,
        )
        try:
            job.spoken = await self._runner.run(job.place, spec, job.items.put_nowait)
        except UpstreamError as exc:
            log.warning("NPC turn in %s failed: %s", key, exc)
            job.items.put_nowait(NpcNotice(kind="error", text=exc.user_message))
        except StoreUnavailable:  # logged once per outage by the store
            job.items.put_nowait(NpcNotice(kind="error", text=STORE_DOWN_TEXT))
        except Exception:
            log.exception("NPC turn in %s failed", key)
            job.items.put_nowait(NpcNotice(kind="error", text=INTERNAL.message))
        finally:
            job.items.put_nowait(None)
            self._running.pop(key, None)
            self._tidy(key)

    def _tidy(self, key: str) -> None:
        if not self._lines.get(key):
            self._lines.pop(key, None)

    def _keep(self, work: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
