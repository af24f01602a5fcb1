"""Settings of the fake Discord: identities, limits and every time window (all in seconds)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BucketLimit(BaseModel):
    """A fixed-window rate limit: at most `limit` requests per `window` seconds."""

    model_config = ConfigDict(frozen=True)

    limit: int = Field(ge=1)
    window: float = Field(gt=0)


class FakeDiscordConfig(BaseModel):
    token: str = "test-token"
    bot_name: str = "charbridge-test"
    guild_name: str = "Test Guild"

    # gateway
    heartbeat_interval: float = Field(default=2.0, gt=0, description="sent in HELLO")
    zlib_stream: bool = Field(default=False, description="send zlib-stream binary frames instead of text")
    enforce_message_content_intent: bool = Field(
        default=True,
        description="blank content, embeds, attachments and components of guild messages that neither mention"
        " the bot nor reply to it for a bot that identified without MESSAGE_CONTENT, like Discord",
    )
    resume_buffer_size: int = Field(default=1000, ge=1)

    # interactions
    ack_deadline: float = Field(default=3.0, gt=0)
    interaction_token_ttl: float = Field(default=900.0, gt=0)

    # validation
    max_content_length: int = 2000
    max_embed_description: int = 4096
    max_webhooks_per_channel: int = 15

    # rate limits; None switches a bucket off
    message_rate: BucketLimit | None = BucketLimit(limit=5, window=5.0)
    webhook_rate: BucketLimit | None = BucketLimit(limit=5, window=2.0)
    webhook_channel_rate: BucketLimit | None = Field(
        default=BucketLimit(limit=30, window=60.0),
        description="executions per channel across all its webhooks (429 with X-RateLimit-Scope: shared)",
    )
    global_rate: BucketLimit | None = BucketLimit(limit=50, window=1.0)
    penalty_grace: float = Field(
        default=0.002, ge=0, description="tolerance for clock jitter before a retry counts as a penalty"
    )

    def scaled(self, factor: float) -> FakeDiscordConfig:
        """The same settings with every time window multiplied by `factor` (0.1 = ten times faster)."""

        def scale(bucket: BucketLimit | None) -> BucketLimit | None:
            return None if bucket is None else BucketLimit(limit=bucket.limit, window=bucket.window * factor)

        return self.model_copy(
            update={
                "heartbeat_interval": self.heartbeat_interval * factor,
                "ack_deadline": self.ack_deadline * factor,
                "interaction_token_ttl": self.interaction_token_ttl * factor,
                "message_rate": scale(self.message_rate),
                "webhook_rate": scale(self.webhook_rate),
                "webhook_channel_rate": scale(self.webhook_channel_rate),
                "global_rate": scale(self.global_rate),
            }
        )
