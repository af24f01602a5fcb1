"""The in-process driver tests use: inject traffic, read transcripts and counters, inject faults."""

from __future__ import annotations

from typing import Any

from . import interactions as kinds
from . import permissions as perms
from .core import FakeCore, RequestRecord
from .faults import FaultRule
from .interactions import InteractionRecord
from .models import Counters, InteractionView, MessageView
from .payloads import channel_payload, member_payload, message_payload, role_payload, user_payload
from .world import DM_CHANNEL, Channel, Role, StoredMessage, User

ChannelRef = Channel | int | str
UserRef = User | int | str
OptionValue = str | int | float | bool

ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024


def _option_type(value: OptionValue) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


class FakeDriver(FakeCore):
    # --- resolving references ----------------------------------------------------------------------
    def resolve_channel(self, ref: ChannelRef) -> Channel:
        return ref if isinstance(ref, Channel) else self.channel(ref)

    def resolve_user(self, ref: UserRef) -> User:
        return ref if isinstance(ref, User) else self.user(ref)

    # --- inbound traffic ---------------------------------------------------------------------------
    async def user_sends(
        self,
        channel: ChannelRef,
        user: UserRef,
        content: str,
        *,
        mention_bot: bool = False,
        reply_to: StoredMessage | int | None = None,
        ping_author: bool = True,
    ) -> StoredMessage:
        """A user posts in a channel, thread or DM; `mentions` and `message_reference` are filled in. A reply
        pings the replied-to author unless `ping_author` is False (the client's "@ off" toggle)."""
        target, author = self.resolve_channel(channel), self.resolve_user(user)
        bot_mention = f"<@{self.bot.id}>"
        if mention_bot and bot_mention not in content:
            content = f"{bot_mention} {content}"
        reply_id = reply_to.id if isinstance(reply_to, StoredMessage) else reply_to
        allowed = None if ping_author else {"parse": ["users", "roles", "everyone"], "replied_user": False}
        return await self.post_message(
            target, author_id=author.id, content=content, reply_to=reply_id, allowed_mentions=allowed
        )

    async def dm(self, user: UserRef, content: str) -> StoredMessage:
        """A user writes to the bot in a DM (the DM channel is opened on first use)."""
        author = self.resolve_user(user)
        return await self.post_message(self.world.open_dm(author), author_id=author.id, content=content)

    async def create_thread(self, parent: ChannelRef, name: str, owner: UserRef) -> Channel:
        thread = self.world.add_thread(self.resolve_channel(parent), name, self.resolve_user(owner))
        await self.gateway.dispatch("THREAD_CREATE", {**channel_payload(self.world, thread), "newly_created": True})
        self.state_changed()
        return thread

    async def add_text_channel(self, name: str) -> Channel:
        channel = self.world.add_text_channel(self.guild, name)
        await self.gateway.dispatch("CHANNEL_CREATE", channel_payload(self.world, channel))
        self.state_changed()
        return channel

    def add_member(self, username: str) -> User:
        """A new user who joins the fake's server (no gateway event: the bot asks for no members intent)."""
        user = self.world.add_user(username)
        self.world.add_member(self.guild, user)
        self.state_changed()
        return user

    async def add_role(self, name: str, permissions: int) -> Role:
        """A new role of the server with these permission bits, announced to the bot like Discord does."""
        role = self.world.add_role(self.guild, name, permissions)
        await self.gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(self.guild.id), "role": role_payload(role)})
        self.state_changed()
        return role

    def set_member_role(self, user: UserRef, role: Role, has: bool) -> None:
        """Give a member a role or take it away. Without the members intent the bot is not told; Discord sends
        each interaction the member's current roles and permissions."""
        member = self.guild.members[self.resolve_user(user).id]
        member.role_ids = [rid for rid in member.role_ids if rid != role.id] + ([role.id] if has else [])
        self.state_changed()

    async def slash(
        self,
        channel: ChannelRef,
        user: UserRef,
        name: str,
        options: dict[str, OptionValue] | None = None,
        *,
        subcommand: str | None = None,
        **more_options: OptionValue,
    ) -> InteractionRecord:
        """A user runs `/name [subcommand] option:value ...`; returns the record that tracks acks and messages."""
        every_option = {**(options or {}), **more_options}
        values = [{"name": key, "type": _option_type(value), "value": value} for key, value in every_option.items()]
        command_options: list[dict[str, Any]] = values
        if subcommand is not None:
            command_options = [{"name": subcommand, "type": 1, "options": values}]
        data: dict[str, Any] = {"id": self._command_id(name), "name": name, "type": 1, "options": command_options}
        return await self._interaction(kinds.APPLICATION_COMMAND, channel, user, data)

    async def click(self, message: StoredMessage, custom_id: str, user: UserRef) -> InteractionRecord:
        """A user presses a button with `custom_id` on `message`."""
        data = {"custom_id": custom_id, "component_type": 2}
        record = await self._interaction(
            kinds.MESSAGE_COMPONENT, message.channel_id, user, data, message=message_payload(self.world, message)
        )
        record.source_message_id = message.id
        return record

    async def _interaction(
        self,
        type_: int,
        channel_ref: ChannelRef,
        user_ref: UserRef,
        data: dict[str, Any],
        message: dict[str, Any] | None = None,
    ) -> InteractionRecord:
        channel, user = self.resolve_channel(channel_ref), self.resolve_user(user_ref)
        record = self.interactions.create(
            self.world.snowflakes.next(),
            type_=type_,
            application_id=self.application_id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            user_id=user.id,
            data=data,
        )
        payload: dict[str, Any] = {
            "id": str(record.id),
            "application_id": str(self.application_id),
            "type": type_,
            "token": record.token,
            "version": 1,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "locale": "en-US",
            "app_permissions": str(self.world.permissions_in(channel, self.bot.id)),
            "entitlements": [],
            "channel_id": str(channel.id),
            "channel": channel_payload(self.world, channel),
            "data": data,
        }
        if message is not None:
            payload["message"] = message
        if channel.guild_id is None:
            payload.update(
                user=user_payload(user),
                context=1,
                authorizing_integration_owners={"0": str(user.id)},
            )
        else:
            guild = self.world.guilds[channel.guild_id]
            member = member_payload(self.world, guild.members[user.id])
            member["permissions"] = str(self.world.permissions_in(channel, user.id))
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                member=member,
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        self.state_changed()
        return record

    def _command_id(self, name: str) -> str:
        for commands in (self.global_commands, *self.guild_commands.values()):
            for command in commands:
                if command["name"] == name:
                    return str(command["id"])
        return str(self.world.snowflakes.next())

    # --- reading what the bot did -----------------------------------------------------------------
    def messages_in(self, channel: ChannelRef, *, include_deleted: bool = False) -> list[StoredMessage]:
        target = self.resolve_channel(channel)
        found = (self.world.messages[mid] for mid in target.message_ids)
        return [m for m in found if include_deleted or not m.deleted]

    def transcript(self, channel: ChannelRef, *, include_deleted: bool = False) -> list[MessageView]:
        """Messages in order, each with author or webhook persona, final text, pings and edit history."""
        return [MessageView.of(self, m) for m in self.messages_in(channel, include_deleted=include_deleted)]

    def message_view(self, message: StoredMessage | int) -> MessageView:
        message_id = message.id if isinstance(message, StoredMessage) else message
        return MessageView.of(self, self.world.messages[message_id])

    def edits(self, message: StoredMessage | int) -> list[tuple[float, str]]:
        """(monotonic time, text) of the original and every edit."""
        return [(v.monotonic, v.content) for v in self.message_view(message).versions]

    def bot_messages(self, channel: ChannelRef) -> list[StoredMessage]:
        return [m for m in self.messages_in(channel) if m.author_id == self.bot.id]

    def dm_channel(self, user: UserRef) -> Channel | None:
        author = self.resolve_user(user)
        return next(
            (c for c in self.world.channels.values() if c.type == DM_CHANNEL and c.recipient_id == author.id),
            None,
        )

    def interaction_view(self, record: InteractionRecord | int) -> InteractionView:
        record_id = record.id if isinstance(record, InteractionRecord) else record
        return InteractionView.of(self.interactions.records[record_id])

    def calls(self, method: str | None = None, route: str | None = None) -> list[RequestRecord]:
        """The REST request log, optionally filtered by method and by a substring of the route template."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and (route is None or route in r.route)
        ]

    def counters(self) -> Counters:
        stats = self.gateway.stats
        return Counters(
            rate_limited=self.limiter.counters.rate_limited,
            penalties=self.limiter.counters.penalties,
            requests=len(self.requests),
            client_errors=sum(1 for r in self.requests if 400 <= r.status < 500 and r.status != 429),
            gateway_connections=stats.connections,
            identifies=stats.identifies,
            resumes=stats.resumes,
            replayed_events=stats.replayed_events,
            heartbeats=stats.heartbeats,
            typing=len(self.typing),
        )

    # --- permissions and faults --------------------------------------------------------------------
    async def set_bot_permission(self, channel: ChannelRef, permission: int, allowed: bool) -> None:
        """Allow or deny the bot one permission in a channel (a member overwrite), like a server admin."""
        target = self.resolve_channel(channel)
        self.world.set_member_overwrite(target, self.bot.id, permission, allowed)
        await self.gateway.dispatch("CHANNEL_UPDATE", channel_payload(self.world, target))
        self.state_changed()

    async def set_manage_webhooks(self, channel: ChannelRef, allowed: bool) -> None:
        await self.set_bot_permission(channel, perms.MANAGE_WEBHOOKS, allowed)

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        code: int = 0,
        message: str = "Injected failure",
        times: int = 1,
        retry_after: float = 0.1,
        via: bool = True,
        scope: str = "user",
    ) -> FaultRule:
        """Answer the next `times` matching REST requests with `status` (path_pattern is a regex); a 429 says
        `scope` in `X-RateLimit-Scope` ("user", "shared")."""
        rule = FaultRule(method, path_pattern, status, code, message, times, retry_after, via, scope=scope)
        self.faults.append(rule)
        return rule

    async def drop_gateway(self, code: int = 4000) -> int:
        """Close the bot's gateway sockets; with a resumable code discord.py reconnects and RESUMEs."""
        return await self.gateway.drop_connections(code)

    async def send_reconnect(self) -> None:
        await self.gateway.send_reconnect()

    async def invalidate_session(self, resumable: bool = False) -> None:
        await self.gateway.invalidate_sessions(resumable)

    def advance_interaction_clock(self, seconds: float) -> None:
        """Let `seconds` pass for the interactions at once: their 3 s acknowledgement deadline and 15 min token
        life run out without a test waiting for them."""
        self.interactions.advance(seconds)
        self.state_changed()

    def set_heartbeat_acks(self, enabled: bool) -> None:
        self.gateway.ack_heartbeats = enabled
