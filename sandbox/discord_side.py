"""The sandbox's Discord: the fake Discord (one demo server), and the real Discord adapter connected to it.

Sandbox users are new members of the demo server ("Sandbox Server"); a group is a text channel there
(created the first time), a private chat is a DM with the bot. ``:admin on`` gives the user a role with
Manage Server, which is what makes a Discord member an admin for the bot.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from adapters.discord.normalize import conversation_id, user_key
from bot.core import Core
from bot.models import ChatRequest, ReplyTarget
from config.settings import Settings
from fakes.discord import Channel, FakeDiscord, FakeDiscordConfig, InteractionRecord, StoredMessage, User
from fakes.discord.permissions import MANAGE_GUILD
from fakes.discord.world import TEXT_CHANNEL, Role
from sandbox.demo import SandboxTiming
from sandbox.discord_slash import parse_slash
from sandbox.discord_view import DiscordView
from sandbox.platform import BotMessage, ChatRef, Place, RealAdapter, SandboxError, channel_name
from sandbox.settings import DISCORD_BOT_USERNAME, DISCORD_SERVER_NAME, DISCORD_TOKEN, discord_section

T = TypeVar("T")

ADMIN_ROLE = "Server Managers"
SETTLE_TIMEOUT = 120.0
ANSWER_START_TIMEOUT = 3.0  # an addressed message is answered at once; longer means it will not be
MENTION = re.compile(rf"@{DISCORD_BOT_USERNAME}\b", re.IGNORECASE)


def fake_config(timing: SandboxTiming) -> FakeDiscordConfig:
    """Discord's rate-limit windows at the sandbox's time scale. The gateway's heartbeat and the deadlines
    Discord sets the bot (3 s to acknowledge a slash command, 15 min of interaction token) stay real: they
    measure how fast the bot answers, which the sandbox does not speed up."""
    real = FakeDiscordConfig(token=DISCORD_TOKEN, bot_name=DISCORD_BOT_USERNAME, guild_name=DISCORD_SERVER_NAME)
    keep = ("heartbeat_interval", "ack_deadline", "interaction_token_ttl")
    return real.scaled(timing.time_scale).model_copy(update={name: getattr(real, name) for name in keep})


def _changed(value: Callable[[], float]) -> Callable[[], bool]:
    """A predicate that is true once ``value()`` differs from what it is now."""
    before = value()
    return lambda: value() != before


class DiscordSide:
    name = "discord"

    def __init__(self, timing: SandboxTiming) -> None:
        self._timing = timing
        self.fake = FakeDiscord(fake_config(timing))
        self._view = DiscordView(self.fake)
        self._users: dict[str, User] = {}
        self._admin_role: Role | None = None
        self._real = RealAdapter(self.name)
        self._sent_at = 0.0
        self._addressed = False  # the last message is one the bot always answers (DM, mention, reply)
        self._interaction: InteractionRecord | None = None

    @property
    def bot_handle(self) -> str:
        return f"@{DISCORD_BOT_USERNAME}"

    async def start_fake(self) -> dict[str, Any]:
        """Start the fake Discord; returns the ``discord`` settings section that points at it."""
        await self.fake.start()
        return discord_section(self.fake.api_base, self.fake.gateway_url, self.fake.guild.id, self._timing)

    async def start(self, core: Core, settings: Settings) -> None:
        await self._real.start(core, settings)

    async def stop(self) -> None:
        await self._real.stop()
        await self.fake.stop()

    # ---- the world, as the sandbox user changes it ----------------------------------------------

    def place_label(self, user: str, place: Place) -> str:
        return "discord:dm" if place.kind == "private" else f"discord:#{channel_name(place.group)}"

    def place_description(self, place: Place) -> str:
        if place.kind == "private":
            return f"their DM with {self.bot_handle} on Discord"
        return f"the Discord channel #{channel_name(place.group)} in {DISCORD_SERVER_NAME}"

    def _account(self, name: str) -> User:
        """The Discord user of sandbox user ``name``: a new member of the demo server."""
        user = self._users.get(name)
        if user is None:
            user = self.fake.add_member(name)
            self._users[name] = user
        return user

    def _text_channel(self, name: str) -> Channel | None:
        channels = self.fake.world.channels
        found = (channels[cid] for cid in self.fake.guild.channel_ids if cid in channels)
        return next((c for c in found if c.type == TEXT_CHANNEL and c.name == name), None)

    async def _channel(self, user: str, place: Place) -> Channel:
        account = self._account(user)
        if place.kind == "private":
            return self.fake.world.open_dm(account)
        name = channel_name(place.group)
        return self._text_channel(name) or await self.fake.add_text_channel(name)

    async def enter(self, user: str, place: Place) -> None:
        await self._channel(user, place)

    async def _role(self) -> Role:
        """The demo server's role with Manage Server (created the first time)."""
        if self._admin_role is None:
            self._admin_role = await self.fake.add_role(ADMIN_ROLE, MANAGE_GUILD)
        return self._admin_role

    async def set_admin(self, user: str, admin: bool) -> str:
        self.fake.set_member_role(self._account(user), await self._role(), admin)
        has = "has" if admin else "no longer has"
        return f"{user} {has} the role {ADMIN_ROLE!r} (Manage Server) in {DISCORD_SERVER_NAME}"

    def _commands_for(self, channel: Channel) -> Sequence[Mapping[str, Any]]:
        if channel.guild_id is None:
            if not self.fake.global_commands:
                raise SandboxError(
                    f"Discord offers no slash commands in a DM here: the bridge registers them in "
                    f"{DISCORD_SERVER_NAME} only (discord.guild_ids); use them in a channel, e.g. :chat group general"
                )
            return self.fake.global_commands
        return [*self.fake.guild_commands.get(channel.guild_id, []), *self.fake.global_commands]

    async def send(self, user: str, place: Place, text: str, *, reply_to_bot: bool = False) -> None:
        channel = await self._channel(user, place)
        account = self._account(user)
        if text.startswith("/") and not reply_to_bot:
            call = parse_slash(text, self._commands_for(channel), where=f"in #{channel.name}")
            self._sent_at = time.monotonic()
            self._interaction = await self.fake.slash(
                channel, account, call.name, call.options, subcommand=call.subcommand
            )
            return
        replied: StoredMessage | None = None
        if reply_to_bot:
            replied = self._view.latest_reply_target(channel)
            if replied is None:
                raise SandboxError("the bot has not written here yet, so there is nothing to reply to")
        self._sent_at = time.monotonic()
        content, mentions = MENTION.subn(f"<@{self.fake.bot.id}>", text)
        self._addressed = channel.guild_id is None or mentions > 0 or replied is not None
        await self.fake.user_sends(channel, account, content, reply_to=replied)

    # ---- observing -------------------------------------------------------------------------------

    def _find(self, chat: ChatRef) -> Channel | None:
        if chat.place.kind == "group":
            return self._text_channel(channel_name(chat.place.group))
        user = self._users.get(chat.user)
        return self.fake.dm_channel(user) if user is not None else None

    def bot_messages(self, chat: ChatRef) -> list[BotMessage]:
        channel = self._find(chat)
        return [] if channel is None else self._view.bot_messages(channel)

    def request_for(self, chat: ChatRef) -> ChatRequest:
        channel = self._find(chat)
        if channel is None:
            raise SandboxError(f"no such chat: {chat.describe()}")
        user = self._users.get(chat.user)
        return ChatRequest(
            platform="discord", conversation_id=conversation_id(channel.guild_id, channel.id),
            user_id=user_key(user.id if user is not None else 0), user_name=chat.user or "sandbox",
            is_dm=channel.guild_id is None, text="", message_id="sandbox:lookup",
            target=ReplyTarget(platform="discord", chat=str(channel.id)),
        )  # fmt: skip

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float) -> T:  # noqa: ASYNC109
        found = await self.fake.wait_for(predicate, timeout)
        if found is None:  # the fake returns truthy values only
            raise TimeoutError("nothing found")
        return found

    async def _wait_quiet(self, last: Callable[[], float], quiet: float) -> None:
        """Until nothing happened for ``quiet`` s after ``last()`` (a monotonic time)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while (idle := time.monotonic() - last()) < quiet:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot is still busy after {SETTLE_TIMEOUT} s")
            with contextlib.suppress(TimeoutError):
                await self.fake.wait_for(_changed(last), quiet - idle)

    async def settle(self, quiet: float) -> None:
        """The slash command acknowledged (or its deadline passed) or the answer to an addressed message
        begun, the upstream work done, then ``quiet`` s without a request from the bot."""
        record, self._interaction = self._interaction, None
        sent, addressed, self._addressed = self._sent_at, self._addressed, False
        with contextlib.suppress(TimeoutError):
            if record is not None:
                deadline = self.fake.config.ack_deadline + 1.0
                await self.fake.wait_for(lambda: record.acknowledged or bool(record.late_ack_delays), deadline)
            elif addressed:  # do not take a slow start for silence
                await self.fake.wait_for(lambda: self._view.last_bot_activity() > sent, ANSWER_START_TIMEOUT)

        def last() -> float:
            return max(sent, self._view.last_bot_activity())

        with contextlib.suppress(TimeoutError):
            await self._wait_quiet(last, quiet)
            await self._real.drain()
            await self._wait_quiet(last, quiet)

    def counters(self) -> list[str]:
        return self._view.counters()
