"""The Discord adapter: discord.py wiring and lifecycle; every message and slash command goes through the core's
door, and the plan it returns is rendered by ``answers``.

A message is answered when the core says so (a DM, a mention, a reply to the bot or to one of its characters,
or every message where the channel's preset answers everything). Characters speak through the channel's webhook
under their own name and avatar (``speech``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import discord

from adapters.discord.admin_commands import admin_commands
from adapters.discord.answers import Answers
from adapters.discord.client import BridgeClient, Endpoints
from adapters.discord.commands import EPHEMERAL_COMMANDS, chat_commands, is_platform_admin, sync_commands
from adapters.discord.interaction import InteractionAck
from adapters.discord.normalize import BotIdentity, normalize_interaction, normalize_message, place_of
from adapters.discord.render import Speakable
from adapters.discord.speech import Speech
from adapters.discord.tree import answer_refusal
from adapters.discord.webhooks import webhook_parent
from bot.door import Door
from bot.errors import StartupError
from bot.journal import Reopened
from bot.models import ReplyRecord
from bot.relay import PacingPolicy, error_notice
from bot.service import INTERNAL
from config.settings import Settings

log = logging.getLogger("charbridge.discord")

PRIVILEGED_INTENTS = (
    "Discord refused the Message Content intent: enable 'Message Content Intent' for the bot in the "
    "developer portal (Applications → your app → Bot → Privileged Gateway Intents)"
)
NOWHERE = "⚠️ This command cannot be used here."


class DiscordAdapter:
    name = "discord"

    def __init__(
        self,
        settings: Settings,
        door: Door,
        *,
        client_options: Mapping[str, Any] | None = None,
        ready_timeout: float = 30.0,
        shutdown_grace: float = 10.0,
    ) -> None:
        """``client_options`` go to ``discord.Client`` (e.g. ``guild_ready_timeout``, ``heartbeat_timeout``,
        ``max_ratelimit_timeout``); ``start`` waits up to ``ready_timeout`` s for the gateway's READY."""
        config = settings.discord
        assert config.token is not None, "the Discord adapter needs a token"
        self._config = config
        self._door = door
        self._ready_timeout = ready_timeout
        self._shutdown_grace = shutdown_grace
        self._endpoints = Endpoints(config.api_base, config.gateway_url)
        options = {"guild_ready_timeout": config.guild_ready_timeout, **(client_options or {})}
        # An edit goes through the door like a message (the normaliser marks it edited; the door decides).
        self._client = BridgeClient(
            on_message=self._on_message, on_edit=self._on_message, on_setup=self._on_setup, **options
        )
        for command in [*chat_commands(self._on_command), *admin_commands(self._on_command, door.preset_names)]:
            self._client.tree.add_command(command)
        self._speech = Speech(
            {
                "channel": PacingPolicy.discord_channel().with_overrides(config.pacing.get("channel", {})),
                "webhook": PacingPolicy.discord_webhook().with_overrides(config.pacing.get("webhook", {})),
            },
            door.first_time,
        )
        self._answers = Answers(self._speech)
        self._identity = BotIdentity(id=0, webhook_ids=self._speech.webhooks.ids)
        self._runner: asyncio.Task[None] | None = None
        self._recovery: asyncio.Task[int] | None = None

    @property
    def client(self) -> discord.Client:
        return self._client

    # --- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        assert self._config.token is not None
        self._endpoints.apply()
        try:
            await self._client.login(self._config.token.get_secret_value())  # runs setup_hook: command sync
        except discord.LoginFailure:
            await self._abort()
            raise StartupError("Discord rejected the bot token (CHARBRIDGE_DISCORD__TOKEN)") from None
        except (discord.HTTPException, OSError) as exc:
            await self._abort()
            raise StartupError(f"Discord could not be reached: {exc}") from None
        user = self._client.user
        assert user is not None
        self._identity = BotIdentity(id=user.id, webhook_ids=self._speech.webhooks.ids)
        self._speech.owner = self.owner
        self._runner = asyncio.create_task(self._client.connect(reconnect=True))
        ready = asyncio.create_task(self._client.wait_until_ready())
        await asyncio.wait({ready, self._runner}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        if self._runner.done():
            ready.cancel()
            failure = self._runner.exception()
            await self._abort()
            if isinstance(failure, discord.PrivilegedIntentsRequired):
                raise StartupError(PRIVILEGED_INTENTS)
            raise StartupError(f"the Discord gateway connection failed: {failure}")
        if not ready.done():
            ready.cancel()
            log.warning("Discord is not ready after %.0f s; still connecting in the background", self._ready_timeout)
        log.info("Discord bot %s (%s) is running", user.name, user.id)
        self._recovery = asyncio.create_task(self._door.recover(self))  # replies a crash cut short

    async def stop(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
        await self._speech.finish(self._shutdown_grace)
        await self._abort()

    # --- the reply journal: finishing replies a crash cut short ------------------------------------------
    @property
    def owner(self) -> str:
        return f"discord:{self._identity.id}"

    async def reopen(self, record: ReplyRecord) -> Reopened[Any] | None:
        """Write where an interrupted reply was being written (None when that channel is gone)."""
        try:
            channel_id = int(record.render["channel"])
            channel = self._client.get_channel(channel_id) or await self._client.fetch_channel(channel_id)
        except (KeyError, ValueError, discord.HTTPException) as exc:
            log.warning("the channel of the interrupted reply %s cannot be found: %s", record.reply_id, exc)
            return None
        if not isinstance(channel, Speakable):
            return None
        return await self._speech.reopen(channel, record)

    async def wait_until_ready(self) -> None:
        await self._client.wait_until_ready()

    async def _abort(self) -> None:
        await self._client.close()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        self._endpoints.restore()

    async def _on_setup(self) -> None:
        await sync_commands(self._client.tree, self._config.guild_ids)

    # --- messages and slash commands: through the core's door -------------------------------------------
    async def _on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id is not None:
            return  # never our own messages or our characters' (nor other bots': no reply loops)
        channel = message.channel
        place = place_of(channel, channel.id, message.guild.id if message.guild is not None else None)
        ticket = self._door.arrive(place.conversation_id)  # before any await: keeps the channel's order
        try:
            await self._learn_replied_webhook(message)
            request = normalize_message(message, self._identity)
            if request is None:
                return
            plan = await self._door.handle(request, ticket)
            await self._answers.to_message(message, request, plan)
        except Exception:
            log.exception("handling Discord message %s failed", message.id)
        finally:
            ticket.release()

    async def _learn_replied_webhook(self, message: discord.Message) -> None:
        """A reply to a webhook message we do not know may answer a character of ours from before a
        restart: look the channel's webhook up (once) before deciding."""
        replied = message.reference.resolved if message.reference is not None else None
        if not isinstance(replied, discord.Message) or replied.webhook_id is None:
            return
        parent = webhook_parent(message.channel)
        if replied.webhook_id not in self._speech.webhooks.ids and parent is not None:
            await self._speech.webhooks.learn(parent)

    async def _on_command(
        self,
        interaction: discord.Interaction,
        *,
        command: str | None = None,
        text: str | None = None,
        shown: str | None = None,
        ephemeral: bool | None = None,
    ) -> None:
        request = normalize_interaction(interaction, self._identity)
        if request is None:  # no channel to answer in: the user still gets an answer
            await answer_refusal(interaction, NOWHERE)
            return
        if command is not None:
            request = request.model_copy(update={"command": command, "text": text or ""})
        private = ephemeral if ephemeral is not None else request.command in EPHEMERAL_COMMANDS
        defer_after = self._config.interaction_defer_after

        async def is_admin() -> bool:
            return is_platform_admin(interaction, self._config.admin_role_ids)

        async with InteractionAck(interaction, defer_after=defer_after, ephemeral=private) as ack:
            try:
                plan = await self._door.handle(request, is_admin=is_admin)
                await self._answers.to_interaction(ack, request, plan, shown)
            except Exception:
                log.exception("slash command /%s failed", request.command)
                await self._speech.answer(ack, error_notice(INTERNAL))
