"""Every pacing number, in one validated model with named defaults per platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PacingPolicy(BaseModel):
    """How fast one reply may be streamed into one destination.

    Windows are sliding: at most ``destination_limit`` calls in any ``destination_window`` seconds for
    one chat/channel/webhook (shared by every reply into it), ``shared_limit`` per ``shared_window`` for
    the destinations of one pool (replies that name one, e.g. all webhooks of a Discord channel), and
    ``global_limit`` per ``global_window`` for the whole platform (shared by every destination of the
    adapter's ``Budgets``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    destination_limit: int = Field(ge=1, description="calls allowed per destination window")
    destination_window: float = Field(gt=0, description="seconds")
    destination_burst: int = Field(
        default=0,
        ge=0,
        description="calls allowed at once before the rest of the window is spread evenly over it"
        " (0, or >= destination_limit: no spreading, the whole window may go at once)",
    )
    shared_limit: int = Field(
        default=0,
        ge=0,
        description="calls allowed per shared window for every destination of one pool (a Discord channel's"
        " webhooks), on top of each destination's own window; 0 = no shared cap",
    )
    shared_window: float = Field(default=60.0, gt=0, description="seconds")
    shared_burst: int = Field(
        default=0, ge=0, description="like destination_burst, for the shared window (0: no spreading)"
    )
    global_limit: int = Field(ge=1, description="calls allowed per global window, all destinations")
    global_window: float = Field(default=1.0, gt=0, description="seconds")
    min_interval: float = Field(ge=0, description="least seconds between two updates of one reply")
    max_interval: float = Field(ge=0, description="cap on the interval after widening for 429s")
    backoff_factor: float = Field(default=1.5, ge=1, description="interval multiplier per 429")
    interval_decay: float = Field(
        default=0.9, gt=0, le=1, description="interval multiplier per successful update, back to the minimum"
    )
    min_growth: int = Field(ge=0, description="characters the text must grow before an intermediate edit")
    typing_interval: float = Field(default=4.0, gt=0, description="seconds between typing indicators")
    typing_uses_budget: bool = Field(default=True, description="a typing call counts against the destination window")
    retry_delay: float = Field(default=1.0, ge=0, description="seconds before retrying a failed call")
    max_attempts: int = Field(default=3, ge=1, description="failed attempts (not 429s) before a message is given up")
    max_rate_limited: int = Field(default=20, ge=1, description="429s in a row before a call is given up")
    idle_timeout: float = Field(
        default=300.0, ge=0, description="end the reply if the source is silent this long; 0 = never"
    )

    @model_validator(mode="after")
    def _interval_range(self) -> Self:
        if self.max_interval < self.min_interval:
            raise ValueError("max_interval must be >= min_interval")
        return self

    @classmethod
    def telegram_private(cls) -> PacingPolicy:
        return cls(
            destination_limit=1, destination_window=1.0, global_limit=25,
            min_interval=1.0, max_interval=10.0, min_growth=15, typing_interval=4.5,
        )  # fmt: skip

    @classmethod
    def telegram_group(cls) -> PacingPolicy:
        # 20 per minute is shared by every send, edit and chat action in the group, and like every chat a group
        # takes about one call per second with a burst of 3. Spread out (3 at once, then one per ~3.5 s), so
        # concurrent replies do not use up the minute at once.
        return cls(
            destination_limit=20, destination_window=60.0, destination_burst=3, global_limit=25,
            min_interval=3.0, max_interval=30.0, min_growth=50, typing_interval=5.0,
        )  # fmt: skip

    @classmethod
    def discord_channel(cls) -> PacingPolicy:
        # Typing is its own route on Discord, so it does not use the channel's message bucket.
        return cls(
            destination_limit=5, destination_window=5.0, global_limit=40,
            min_interval=1.0, max_interval=10.0, min_growth=20, typing_interval=8.0,
            typing_uses_budget=False,
        )  # fmt: skip

    @classmethod
    def discord_webhook(cls) -> PacingPolicy:
        # 5 per 2 s per webhook, and about 30 per minute per channel across all its webhooks (Discord's
        # "shared" limit; whether edits count is not documented, so they are paced as if they did). Spread
        # out (10 at once, then one per 3 s), so that several characters do not spend the minute at once.
        return cls(
            destination_limit=5, destination_window=2.0, global_limit=40,
            shared_limit=30, shared_window=60.0, shared_burst=10,
            min_interval=1.0, max_interval=10.0, min_growth=20, typing_interval=8.0,
            typing_uses_budget=False,
        )  # fmt: skip

    @classmethod
    def preset(cls, name: str) -> PacingPolicy:
        """The named defaults: one of ``PRESETS``."""
        try:
            factory = PRESETS[name]
        except KeyError:
            raise ValueError(f"unknown pacing preset {name!r}; known: {', '.join(sorted(PRESETS))}") from None
        return factory()

    def with_overrides(self, overrides: Mapping[str, float]) -> PacingPolicy:
        """A copy with some fields replaced, e.g. from a preset's ``pacing`` dict; validated like the rest
        (unknown names and out-of-range values raise ``ValueError``)."""
        unknown = set(overrides) - set(type(self).model_fields)
        if unknown:
            raise ValueError(f"unknown pacing fields: {', '.join(sorted(unknown))}")
        merged: dict[str, Any] = {**self.model_dump(), **overrides}
        return type(self).model_validate(merged)  # pydantic's ValidationError is a ValueError


PRESETS = {
    "telegram_private": PacingPolicy.telegram_private,
    "telegram_group": PacingPolicy.telegram_group,
    "discord_channel": PacingPolicy.discord_channel,
    "discord_webhook": PacingPolicy.discord_webhook,
}
