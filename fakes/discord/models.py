"""Pydantic views of the fake's state (returned to tests and over `/_fake/...`) and control bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from .core import FakeCore
from .interactions import InteractionRecord
from .world import Pings, StoredMessage


class PingsView(BaseModel):
    users: list[int]
    roles: list[int]
    everyone: bool

    @property
    def anyone(self) -> bool:
        return bool(self.users or self.roles or self.everyone)

    @classmethod
    def of(cls, pings: Pings) -> PingsView:
        return cls(users=list(pings.users), roles=list(pings.roles), everyone=pings.everyone)


class VersionView(BaseModel):
    at: dt.datetime
    monotonic: float
    content: str
    embeds: list[dict[str, Any]]
    mentions: PingsView


class MessageView(BaseModel):
    id: int
    channel_id: int
    author_id: int
    author_name: str
    webhook_id: int | None
    avatar_url: str | None
    interaction_id: int | None
    content: str
    embeds: list[dict[str, Any]]
    flags: int
    created_at: dt.datetime
    reply_to: int | None
    deleted: bool
    pings: PingsView = Field(description="who was notified when the message was created")
    allowed_mentions: dict[str, Any] | None
    versions: list[VersionView] = Field(description="the original text first, then every edit")

    @classmethod
    def of(cls, core: FakeCore, message: StoredMessage) -> MessageView:
        if message.webhook_id is not None and message.interaction_id is None:
            webhook = core.world.webhooks.get(message.webhook_id)
            name = message.username_override or (webhook.name if webhook else "webhook")
        else:
            name = core.world.users[message.author_id].username
        return cls(
            id=message.id,
            channel_id=message.channel_id,
            author_id=message.author_id,
            author_name=name,
            webhook_id=message.webhook_id,
            avatar_url=message.avatar_url_override,
            interaction_id=message.interaction_id,
            content=message.content,
            embeds=message.embeds,
            flags=message.flags,
            created_at=message.created_at,
            reply_to=message.reply_to,
            deleted=message.deleted,
            pings=PingsView.of(message.pings),
            allowed_mentions=message.allowed_mentions,
            versions=[
                VersionView(
                    at=v.at,
                    monotonic=v.monotonic,
                    content=v.content,
                    embeds=v.embeds,
                    mentions=PingsView.of(v.mentions),
                )
                for v in message.versions
            ],
        )


class InteractionView(BaseModel):
    id: int
    token: str
    type: int
    name: str | None
    channel_id: int
    user_id: int
    acknowledged: bool
    ack_type: int | None
    ack_delay: float | None = Field(description="seconds from creation to the accepted callback")
    late_ack_delays: list[float]
    double_acks: int
    original_message_id: int | None
    followup_ids: list[int]
    ephemeral: bool

    @classmethod
    def of(cls, record: InteractionRecord) -> InteractionView:
        return cls(
            id=record.id,
            token=record.token,
            type=record.type,
            name=record.data.get("name"),
            channel_id=record.channel_id,
            user_id=record.user_id,
            acknowledged=record.acknowledged,
            ack_type=record.ack_type,
            ack_delay=record.ack_delay,
            late_ack_delays=record.late_ack_delays,
            double_acks=record.double_acks,
            original_message_id=record.original_message_id,
            followup_ids=record.followup_ids,
            ephemeral=record.ephemeral,
        )


class Counters(BaseModel):
    rate_limited: int = Field(description="429 answers from the rate limiter (scripted faults excluded)")
    penalties: int = Field(
        description="requests to a bucket (or to the path of an injected 429) before its retry_after elapsed"
    )
    requests: int
    client_errors: int = Field(description="4xx answers other than 429")
    gateway_connections: int
    identifies: int
    resumes: int
    replayed_events: int
    heartbeats: int
    typing: int


# --- bodies of the HTTP control API --------------------------------------------------------------
class InjectMessage(BaseModel):
    channel: str = Field(description="channel id or name")
    user: str = Field(description="user id or username")
    content: str
    mention_bot: bool = False
    reply_to: int | None = None
    ping_author: bool = True


class InjectDirectMessage(BaseModel):
    user: str
    content: str


class InjectSlash(BaseModel):
    channel: str
    user: str
    name: str
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)


class SetPermission(BaseModel):
    allowed: bool


class DropGateway(BaseModel):
    code: int = 4000


class InjectFault(BaseModel):
    method: str = "*"
    path_pattern: str
    status: int
    code: int = 0
    message: str = "Injected failure"
    times: int = 1
    retry_after: float = 0.1
    via: bool = True
    scope: str = "user"


class AdvanceClock(BaseModel):
    seconds: float = Field(ge=0)
