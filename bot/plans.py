"""What the core's door (``bot.door``) hands an adapter for one incoming message: a plan to render.

Adapters render plans and nothing else decides: a ``Skip`` is not answered, a ``Say`` is posted as it is, a
``Stream`` is relayed as the character's reply, a ``Cast`` is relayed item by item under each NPC's name.
Each plan carries the preset's pacing overrides, applied to the platform's base policy by ``policy``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.journal import ReplyTicket
from bot.models import ReplyError, ReplyEvent, Speaker
from bot.npc.items import NpcItem
from bot.relay.inbox import error_notice
from bot.relay.policy import PacingPolicy
from bot.router import Route

log = logging.getLogger("charbridge.door")

NO_OVERRIDES: Mapping[str, float] = {}


@dataclass(frozen=True)
class Plan:
    pacing: Mapping[str, float] = field(default_factory=dict, kw_only=True)

    def policy(self, base: PacingPolicy) -> PacingPolicy:
        """``base`` with the answering preset's pacing overrides. Invalid overrides (possible in presets stored
        before a pacing field changed) are logged and ignored."""
        if not self.pacing:
            return base
        try:
            return base.with_overrides(self.pacing)
        except ValueError as exc:
            log.warning("invalid pacing overrides %s (%s); using the defaults", dict(self.pacing), exc)
            return base


@dataclass(frozen=True)
class Skip(Plan):
    """Not answered: a redelivery, a group message nobody addressed, an empty message. ``notice`` is what the
    chat was told shortly before and is not told again now (the store is unreachable: ``bot.unavailable``);
    adapters that must answer every request (an HTTP call, a slash command) answer with it."""

    reason: str
    notice: Say | None = None


@dataclass(frozen=True)
class Say(Plan):
    """A text the bot posts as it is (command answers, notices). ``error`` names the failure when the text
    explains one (``no_preset``, ``invalid``, ...), for adapters that answer with status codes, and
    ``retry_after`` the seconds to wait when that is known. ``greeting`` is the character's own line: after
    ``text`` in the same message (below the character's name where the platform shows one), or, when
    ``greeting_apart``, posted separately by the character itself."""

    text: str
    error: str | None = None
    retry_after: float | None = None
    greeting: str | None = None
    greeting_apart: bool = False
    speaker: Callable[[], Awaitable[Speaker | None]] | None = None  # who speaks the greeting

    @property
    def shown(self) -> str:
        """The text as posted: a failure to answer (not a usage hint) is marked like a failed reply."""
        if self.error is None or self.error == "invalid":
            return self.text
        return error_notice(ReplyError(code=self.error, message=self.text))

    @property
    def together(self) -> str:
        """The text with the greeting below it, for platforms that show no character name (unless apart)."""
        if self.greeting is None or self.greeting_apart:
            return self.shown
        return f"{self.shown}\n\n{self.greeting}"


@dataclass(frozen=True)
class Stream(Plan):
    """The character's reply as reply events (cumulative snapshots, then one final or error). An adapter that
    posts platform messages relays it through ``journal.relay`` (``bot.journal``), so that a crash cannot leave
    it half-written."""

    events: AsyncIterator[ReplyEvent]
    route: Route
    speaker: Callable[[], Awaitable[Speaker | None]]
    journal: ReplyTicket | None = None


@dataclass(frozen=True)
class Cast(Plan):
    """Several characters answer (an NPC preset): notices and replies, each naming its speaker; the adapter
    calls ``remember`` with the platform message ids it posted for a speaker, so replies to them reach it."""

    items: AsyncIterator[NpcItem]
    route: Route
    remember: Callable[[Speaker, Iterable[str]], Awaitable[None]]
