"""State and behaviour shared by the REST routes, the gateway and the test driver."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from . import permissions as perms
from .config import BucketLimit, FakeDiscordConfig
from .content_intent import as_seen_without_intent
from .faults import FaultRule
from .gateway import MESSAGE_CONTENT, GatewayHub, GatewaySession
from .ids import utcnow
from .interactions import InteractionBook
from .mentions import compute_pings
from .payloads import guild_create_payload, member_payload, message_payload, user_payload
from .ratelimits import RateLimiter
from .wire import EMPTY_MESSAGE, DiscordError, form_error, too_long
from .world import Channel, Guild, MessageVersion, StoredMessage, User, World

T = TypeVar("T")

POLL_INTERVAL = 0.02

EPHEMERAL = 1 << 6
LOADING = 1 << 7
DEFAULT_MESSAGE, REPLY_MESSAGE, CHAT_INPUT_COMMAND_MESSAGE = 0, 19, 20


@dataclass(frozen=True)
class RequestRecord:
    at: float
    method: str
    path: str
    route: str
    status: int
    payload: Any
    query: dict[str, str]


@dataclass(frozen=True)
class TypingEvent:
    at: float
    channel_id: int


class FakeCore:
    def __init__(self, config: FakeDiscordConfig | None = None) -> None:
        self.config = config or FakeDiscordConfig()
        self.world = World()
        self.bot = self.world.add_user(self.config.bot_name, bot=True)
        self.application_id = self.bot.id
        self.limiter = RateLimiter(self.config.penalty_grace)
        self.interactions = InteractionBook(
            ack_deadline=lambda: self.config.ack_deadline,
            token_ttl=lambda: self.config.interaction_token_ttl,
        )
        self.gateway = GatewayHub(self.config, self)
        self.requests: list[RequestRecord] = []
        self.typing: list[TypingEvent] = []
        self.faults: list[FaultRule] = []
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.base_url = ""  # set once the server listens
        self._changed = asyncio.Event()
        self._build_default_world()

    def _build_default_world(self) -> None:
        world = self.world
        alice = world.add_user("alice")
        world.add_user("bob")
        guild = world.add_guild(self.config.guild_name, owner=alice)
        bot_role = world.add_role(guild, self.config.bot_name, perms.BOT_ROLE_DEFAULT, managed=True)
        world.add_role(guild, "fans", 0, mentionable=True)
        world.add_member(guild, self.bot, [bot_role])
        for user in list(world.users.values()):
            if not user.bot and user.id not in guild.members:
                world.add_member(guild, user)
        general = world.add_text_channel(guild, "general", topic="talk here")
        world.add_text_channel(guild, "random")
        world.add_thread(general, "chat-thread", owner=alice)

    # --- lookups used by tests and routes ------------------------------------------------------
    @property
    def guild(self) -> Guild:
        return next(iter(self.world.guilds.values()))

    def channel(self, ref: int | str) -> Channel:
        """A channel by id or by name (text channels and threads)."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.world.channel(ref)
        for channel in self.world.channels.values():
            if channel.name == ref:
                return channel
        raise KeyError(f"no channel named {ref!r}")

    def user(self, ref: int | str) -> User:
        """A user by id or username."""
        if isinstance(ref, int) or ref.isdigit():
            return self.world.users[int(ref)]
        for user in self.world.users.values():
            if user.username == ref:
                return user
        raise KeyError(f"no user named {ref!r}")

    def bucket_rule(self, name: str) -> BucketLimit | None:
        rules = {
            "messages": self.config.message_rate,
            "webhook": self.config.webhook_rate,
            "webhook_channel": self.config.webhook_channel_rate,
            "global": self.config.global_rate,
        }
        return rules.get(name)

    # --- change notification -------------------------------------------------------------------
    def state_changed(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until `predicate()` returns something truthy (re-checked on every state change)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            event = self._changed
            # also re-check every few ms: the condition may depend on the client having processed events
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, POLL_INTERVAL))

    # --- GatewayWorld -----------------------------------------------------------------------------
    def ready_payload(self, session_id: str) -> dict[str, Any]:
        return {
            "v": 10,
            "user": user_payload(self.bot),
            "guilds": [{"id": str(gid), "unavailable": True} for gid in self.world.guilds],
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "shard": [0, 1],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
        }

    def guild_create_payloads(self) -> list[dict[str, Any]]:
        return [guild_create_payload(self.world, guild) for guild in self.world.guilds.values()]

    def member_chunk(self, guild_id: int) -> list[dict[str, Any]]:
        guild = self.world.guilds[guild_id]
        return [member_payload(self.world, member) for member in guild.members.values()]

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    # --- messages ---------------------------------------------------------------------------------
    def validate_message(self, payload: dict[str, Any], *, creating: bool) -> None:
        content = payload.get("content")
        if content is not None and len(str(content)) > self.config.max_content_length:
            raise too_long(["content"], self.config.max_content_length)
        embeds = payload.get("embeds") or []
        if len(embeds) > 10:
            raise form_error(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        for index, embed in enumerate(embeds):
            description = embed.get("description") or ""
            if len(description) > self.config.max_embed_description:
                raise too_long(["embeds", index, "description"], self.config.max_embed_description)
        # Discord trims content: whitespace alone is no content (zero-width characters are not whitespace)
        has_text = content is not None and bool(str(content).strip())
        has_body = has_text or embeds or payload.get("attachments") or payload.get("sticker_ids")
        if creating and not has_body and not payload.get("components"):
            raise DiscordError(400, EMPTY_MESSAGE, "Cannot send an empty message")

    async def post_message(
        self,
        channel: Channel,
        *,
        author_id: int,
        content: str = "",
        embeds: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
        allowed_mentions: dict[str, Any] | None = None,
        webhook_id: int | None = None,
        username: str | None = None,
        avatar_url: str | None = None,
        interaction_id: int | None = None,
        flags: int = 0,
        message_type: int | None = None,
        nonce: str | int | None = None,
        tts: bool = False,
    ) -> StoredMessage:
        world = self.world
        replied = world.messages.get(reply_to) if reply_to is not None else None
        replied_author = replied.author_id if replied is not None and replied.webhook_id is None else None
        mentions = compute_pings(
            world,
            channel,
            content,
            allowed_mentions,
            author_id=author_id,
            is_webhook=webhook_id is not None and interaction_id is None,
            replied_author_id=replied_author,
        )
        if message_type is None:
            message_type = REPLY_MESSAGE if reply_to is not None else DEFAULT_MESSAGE
        now = utcnow()
        message = StoredMessage(
            id=world.snowflakes.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            content=content,
            created_at=now,
            type=message_type,
            flags=flags,
            embeds=list(embeds or []),
            attachments=list(attachments or []),
            reply_to=reply_to,
            webhook_id=webhook_id,
            username_override=username,
            avatar_url_override=avatar_url,
            interaction_id=interaction_id,
            allowed_mentions=allowed_mentions,
            pings=mentions,
            mentions=mentions,
            nonce=nonce,
            tts=tts,
        )
        message.versions.append(MessageVersion(now, time.monotonic(), content, message.embeds, mentions))
        world.messages[message.id] = message
        channel.message_ids.append(message.id)
        if not flags & EPHEMERAL:
            await self.gateway.dispatch(
                "MESSAGE_CREATE", message_payload(world, message), self._content_visibility
            )
        self.state_changed()
        return message

    async def edit_message(
        self,
        message: StoredMessage,
        *,
        content: str | None = None,
        embeds: list[dict[str, Any]] | None = None,
        allowed_mentions: dict[str, Any] | None = None,
        flags: int | None = None,
    ) -> StoredMessage:
        new_content = message.content if content is None else content
        new_embeds = message.embeds if embeds is None else list(embeds)
        if not new_content.strip() and not new_embeds and not message.attachments:
            raise DiscordError(400, EMPTY_MESSAGE, "Cannot send an empty message")
        channel = self.world.channel(message.channel_id)
        rules = allowed_mentions if allowed_mentions is not None else message.allowed_mentions
        mentions = compute_pings(
            self.world,
            channel,
            new_content,
            rules,
            author_id=message.author_id,
            is_webhook=message.webhook_id is not None and message.interaction_id is None,
        )
        now = utcnow()
        message.content, message.embeds, message.mentions = new_content, new_embeds, mentions
        message.edited_at = now
        if flags is not None:
            message.flags = flags
        message.versions.append(MessageVersion(now, time.monotonic(), new_content, new_embeds, mentions))
        if not message.flags & EPHEMERAL:
            await self.gateway.dispatch(
                "MESSAGE_UPDATE", message_payload(self.world, message), self._content_visibility
            )
        self.state_changed()
        return message

    async def delete_message(self, message: StoredMessage) -> None:
        message.deleted = True
        data = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        await self.gateway.dispatch("MESSAGE_DELETE", data)
        self.state_changed()

    def _content_visibility(self, session: GatewaySession, data: dict[str, Any]) -> dict[str, Any]:
        """Blank message content the way Discord does for bots without the MESSAGE_CONTENT intent."""
        if not self.config.enforce_message_content_intent or session.intents & MESSAGE_CONTENT:
            return data
        return as_seen_without_intent(self.world, self.bot.id, data)

    def record_request(self, record: RequestRecord) -> None:
        self.requests.append(record)
        self.state_changed()
