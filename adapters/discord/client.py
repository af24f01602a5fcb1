"""The discord.py client: intents, the REST and gateway endpoints from the settings, and the events the adapter
needs (messages and their edits, and the setup hook that syncs the slash commands)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.render import NO_PINGS
from adapters.discord.tree import CANNOT_RUN, BridgeTree, answer_refusal

log = logging.getLogger("charbridge.discord")

MessageHandler = Callable[[discord.Message], Awaitable[None]]


class Endpoints:
    """Points discord.py at the configured REST base and gateway (class attributes, so process-wide:
    ``apply`` before login, ``restore`` after closing)."""

    def __init__(self, api_base: str | None, gateway_url: str | None) -> None:
        self._api_base = api_base.rstrip("/") if api_base else None
        self._gateway_url = gateway_url
        self._saved: tuple[str, yarl.URL] | None = None

    def apply(self) -> None:
        self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        if self._api_base:
            Route.BASE = self._api_base
        if self._gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self._gateway_url)

    def restore(self) -> None:
        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None


def bridge_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = True  # privileged: switch it on in the developer portal
    intents.typing = False
    intents.dm_typing = False
    return intents


class BridgeClient(discord.Client):
    """A plain client with a command tree; no message ever pings anyone (``AllowedMentions.none()``)."""

    def __init__(
        self,
        *,
        on_message: MessageHandler,
        on_setup: Callable[[], Awaitable[None]],
        on_edit: MessageHandler | None = None,
        **options: Any,
    ) -> None:
        options["allowed_mentions"] = NO_PINGS
        # The bridge never joins voice, so discord.py's warnings about missing voice libraries are only noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=bridge_intents(), **options)
        self.tree = BridgeTree(self)
        self.tree.error(self._on_command_error)
        self._handle_message = on_message
        self._handle_edit = on_edit
        self._setup = on_setup

    async def setup_hook(self) -> None:
        await self._setup()

    async def on_message(self, message: discord.Message) -> None:
        await self._handle_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Every edit, cached message or not. Discord also sends MESSAGE_UPDATE when it adds a link preview to
        a message nobody edited: those are no edits."""
        if self._handle_edit is not None and payload.message.edited_at is not None:
            await self._handle_edit(payload.message)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Discord event %s failed", event_method)

    async def _on_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """What the tree's check let through and still failed: our own bug (logged whole), or data discord.py
        could not take (one line). Either way the user gets an answer."""
        name = interaction.command.qualified_name if interaction.command is not None else "?"
        if isinstance(error, app_commands.CommandInvokeError):
            log.error("slash command /%s failed", name, exc_info=error.original)
        else:
            log.warning("slash command /%s not run: %s", name, error)
        await answer_refusal(interaction, CANNOT_RUN)
