"""Interaction records and the acknowledgement rules (3 s deadline, one ack, 15 min token life)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ids import new_token, utcnow
from .wire import (
    ALREADY_ACKNOWLEDGED,
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_INTERACTION,
    DiscordError,
    not_found,
)

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3

PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9


@dataclass
class InteractionRecord:
    id: int
    token: str
    type: int
    application_id: int
    channel_id: int
    guild_id: int | None
    user_id: int
    data: dict[str, Any]
    created_at: dt.datetime
    created_monotonic: float
    ack_type: int | None = None
    ack_delay: float | None = None  # seconds between creation and the accepted ack
    ephemeral: bool = False
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    late_ack_delays: list[float] = field(default_factory=list)
    double_acks: int = 0
    source_message_id: int | None = None  # component interactions

    @property
    def acknowledged(self) -> bool:
        return self.ack_type is not None

    @property
    def deferred(self) -> bool:
        return self.ack_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE)


class InteractionBook:
    def __init__(
        self,
        ack_deadline: Callable[[], float],
        token_ttl: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ack_deadline = ack_deadline
        self._token_ttl = token_ttl
        self._clock = clock
        self._skipped = 0.0  # seconds of pretend time added by `advance` (tests skip the waiting)
        self.records: dict[int, InteractionRecord] = {}

    def now(self) -> float:
        return self._clock() + self._skipped

    def advance(self, seconds: float) -> None:
        """Pretend `seconds` have passed for every deadline and token life of the interactions."""
        self._skipped += seconds

    def create(
        self,
        interaction_id: int,
        *,
        type_: int,
        application_id: int,
        channel_id: int,
        guild_id: int | None,
        user_id: int,
        data: dict[str, Any],
    ) -> InteractionRecord:
        record = InteractionRecord(
            id=interaction_id,
            token=new_token(),
            type=type_,
            application_id=application_id,
            channel_id=channel_id,
            guild_id=guild_id,
            user_id=user_id,
            data=data,
            created_at=utcnow(),
            created_monotonic=self.now(),
        )
        self.records[record.id] = record
        return record

    def age(self, record: InteractionRecord) -> float:
        return self.now() - record.created_monotonic

    def acknowledge(self, interaction_id: str, token: str, callback_type: int) -> InteractionRecord:
        """Accept the first callback inside the deadline; Discord's errors otherwise."""
        try:
            record = self.records[int(interaction_id)]
        except (KeyError, ValueError):
            raise not_found(UNKNOWN_INTERACTION, "interaction") from None
        if record.token != token:
            raise not_found(UNKNOWN_INTERACTION, "interaction")
        age = self.age(record)
        if record.acknowledged:
            record.double_acks += 1
            raise DiscordError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        if age > self._ack_deadline():
            record.late_ack_delays.append(age)
            raise not_found(UNKNOWN_INTERACTION, "interaction")
        record.ack_type = callback_type
        record.ack_delay = age
        return record

    def by_token(self, application_id: str, token: str) -> InteractionRecord | None:
        """The interaction behind a `/webhooks/{application_id}/{token}` route, checking token life."""
        for record in self.records.values():
            if record.token == token and str(record.application_id) == application_id:
                if self.age(record) > self._token_ttl():
                    raise DiscordError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
                return record
        return None
