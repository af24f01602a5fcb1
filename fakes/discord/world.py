"""The fake's world: users, guilds, roles, members, channels, threads, DMs, messages and webhooks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import permissions as perms
from .ids import SnowflakeFactory, new_token, utcnow
from .wire import UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, UNKNOWN_WEBHOOK, not_found

TEXT_CHANNEL = 0
DM_CHANNEL = 1
PUBLIC_THREAD = 11


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    mentionable: bool = False
    managed: bool = False


@dataclass
class Member:
    user_id: int
    role_ids: list[int]
    joined_at: dt.datetime
    nick: str | None = None


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    joined_at: dt.datetime
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)


@dataclass
class Channel:
    id: int
    type: int
    name: str | None
    guild_id: int | None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    overwrites: list[perms.Overwrite] = field(default_factory=list)
    recipient_id: int | None = None  # DMs
    owner_id: int | None = None  # threads
    message_ids: list[int] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type == PUBLIC_THREAD


@dataclass(frozen=True)
class Pings:
    """Who a message notifies: user ids, role ids and whether @everyone/@here went off."""

    users: tuple[int, ...] = ()
    roles: tuple[int, ...] = ()
    everyone: bool = False

    @property
    def anyone(self) -> bool:
        return bool(self.users or self.roles or self.everyone)


@dataclass
class MessageVersion:
    at: dt.datetime
    monotonic: float
    content: str
    embeds: list[dict[str, Any]]
    mentions: Pings


@dataclass
class StoredMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str
    created_at: dt.datetime
    type: int = 0
    flags: int = 0
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_to: int | None = None
    webhook_id: int | None = None
    username_override: str | None = None
    avatar_url_override: str | None = None
    interaction_id: int | None = None
    allowed_mentions: dict[str, Any] | None = None
    pings: Pings = Pings()
    mentions: Pings = Pings()
    nonce: str | int | None = None
    tts: bool = False
    edited_at: dt.datetime | None = None
    deleted: bool = False
    versions: list[MessageVersion] = field(default_factory=list)


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int
    guild_id: int
    name: str
    avatar: str | None
    creator_id: int
    application_id: int | None


class World:
    def __init__(self) -> None:
        self.snowflakes = SnowflakeFactory()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.webhooks: dict[int, Webhook] = {}

    # --- building -------------------------------------------------------------------------
    def add_user(self, username: str, *, bot: bool = False, user_id: int | None = None) -> User:
        user = User(id=user_id or self.snowflakes.next(), username=username, global_name=username, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User) -> Guild:
        guild = Guild(id=self.snowflakes.next(), name=name, owner_id=owner.id, joined_at=utcnow())
        guild.roles[guild.id] = Role(id=guild.id, name="@everyone", permissions=perms.EVERYONE_DEFAULT)
        self.guilds[guild.id] = guild
        self.add_member(guild, owner)
        return guild

    def add_role(
        self, guild: Guild, name: str, permissions: int = 0, *, mentionable: bool = False, managed: bool = False
    ) -> Role:
        role = Role(
            id=self.snowflakes.next(),
            name=name,
            permissions=permissions,
            position=len(guild.roles),
            mentionable=mentionable,
            managed=managed,
        )
        guild.roles[role.id] = role
        return role

    def add_member(self, guild: Guild, user: User, roles: list[Role] | None = None) -> Member:
        member = Member(user_id=user.id, role_ids=[role.id for role in roles or []], joined_at=utcnow())
        guild.members[user.id] = member
        return member

    def add_text_channel(self, guild: Guild, name: str, topic: str | None = None) -> Channel:
        channel = Channel(
            id=self.snowflakes.next(),
            type=TEXT_CHANNEL,
            name=name,
            guild_id=guild.id,
            position=len(guild.channel_ids),
            topic=topic,
        )
        self.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        return channel

    def add_thread(self, parent: Channel, name: str, owner: User) -> Channel:
        thread = Channel(
            id=self.snowflakes.next(),
            type=PUBLIC_THREAD,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner.id,
        )
        self.channels[thread.id] = thread
        return thread

    def open_dm(self, user: User) -> Channel:
        for channel in self.channels.values():
            if channel.type == DM_CHANNEL and channel.recipient_id == user.id:
                return channel
        channel = Channel(id=self.snowflakes.next(), type=DM_CHANNEL, name=None, guild_id=None)
        channel.recipient_id = user.id
        self.channels[channel.id] = channel
        return channel

    def add_webhook(
        self, channel: Channel, name: str, avatar: str | None, creator: User, application_id: int | None
    ) -> Webhook:
        assert channel.guild_id is not None
        webhook = Webhook(
            id=self.snowflakes.next(),
            token=new_token(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            name=name,
            avatar=avatar,
            creator_id=creator.id,
            application_id=application_id,
        )
        self.webhooks[webhook.id] = webhook
        return webhook

    # --- lookups ----------------------------------------------------------------------------
    def channel(self, channel_id: int | str) -> Channel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise not_found(UNKNOWN_CHANNEL, "Channel") from None

    def message(self, channel_id: int, message_id: int | str) -> StoredMessage:
        try:
            message = self.messages[int(message_id)]
        except (KeyError, ValueError):
            raise not_found(UNKNOWN_MESSAGE, "Message") from None
        if message.channel_id != channel_id or message.deleted:
            raise not_found(UNKNOWN_MESSAGE, "Message")
        return message

    def webhook(self, webhook_id: int | str) -> Webhook:
        try:
            return self.webhooks[int(webhook_id)]
        except (KeyError, ValueError):
            raise not_found(UNKNOWN_WEBHOOK, "Webhook") from None

    def guild_of(self, channel: Channel) -> Guild | None:
        return None if channel.guild_id is None else self.guilds[channel.guild_id]

    def webhooks_in(self, channel_id: int) -> list[Webhook]:
        return [hook for hook in self.webhooks.values() if hook.channel_id == channel_id]

    def permissions_in(self, channel: Channel, user_id: int) -> int:
        """What `user_id` may do in `channel`; threads use their parent's overwrites."""
        guild = self.guild_of(channel)
        if guild is None:
            return perms.EVERYONE_DEFAULT
        member = guild.members.get(user_id)
        if member is None:
            return 0
        role_ids = {guild.id, *member.role_ids}
        base = perms.base_permissions(
            (guild.roles[rid].permissions for rid in role_ids if rid in guild.roles),
            is_owner=guild.owner_id == user_id,
        )
        source = self.channels[channel.parent_id] if channel.parent_id is not None else channel
        return perms.apply_overwrites(base, source.overwrites, guild.id, user_id, role_ids)

    def set_member_overwrite(self, channel: Channel, user_id: int, permission: int, allowed: bool) -> None:
        overwrite = next(
            (o for o in channel.overwrites if o.type == perms.MEMBER_OVERWRITE and o.id == user_id), None
        )
        if overwrite is None:
            overwrite = perms.Overwrite(id=user_id, type=perms.MEMBER_OVERWRITE)
            channel.overwrites.append(overwrite)
        if allowed:
            overwrite.deny &= ~permission
            overwrite.allow |= permission
        else:
            overwrite.allow &= ~permission
            overwrite.deny |= permission
