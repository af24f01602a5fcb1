"""Characters as NPCs on Discord: every cast member speaks through the channel's webhook under its own name
and avatar, streaming by edits (without Manage Webhooks: the bot, with the name in bold), and the messages
it posted are remembered so a reply to one reaches that member. ``/npc character:<who> message:<what>`` talks
to one member; notices (queued, unknown name) come from the bot itself.

The adapter provides the voices (``Voices``) and calls ``arrive`` before its first await for a message,
then ``answer_message``; slash commands go through ``command``'s handler.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import discord
from discord import app_commands

from adapters.discord.interaction import InteractionAck
from adapters.discord.normalize import is_blank, message_key, place_of
from adapters.discord.render import Persona, SentMessage, Speakable, WebhookPost
from bot.models import ChatRequest, ReplyEvent
from bot.npc import NPC_COMMAND, NPC_USAGE, NpcItem, NpcNotice, NpcReply, Ticket
from bot.service import ChatService

log = logging.getLogger("charbridge.discord")


class Voices(Protocol):
    """What the adapter lends the NPCs: posting as a persona, as the bot, and answering a slash command."""

    async def speak_as(
        self,
        channel: Speakable,
        request: ChatRequest,
        events: AsyncIterator[ReplyEvent],
        persona: Persona,
        reply_to: discord.MessageReference | None,
    ) -> list[Any]:
        """Relay ``events`` as ``persona``; the handles of the messages posted."""
        ...

    async def say_in(self, channel: Speakable, text: str, reply_to: discord.MessageReference | None) -> None: ...

    async def answer_ack(self, ack: InteractionAck, text: str) -> None: ...


def posted_id(handle: object) -> int | None:
    """The Discord message id behind a sink handle (webhook post or bot message)."""
    if isinstance(handle, WebhookPost):
        return handle.message_id
    if isinstance(handle, SentMessage):
        return handle.message.id
    return None


def echo(request: ChatRequest, name: str, message: str) -> str:
    """What a ``/npc`` invocation shows in the channel: who said what to whom."""
    return f"💬 **{discord.utils.escape_markdown(request.user_name)}** to **{name}**: {message}"


class DiscordNpc:
    def __init__(
        self,
        service: ChatService,
        voices: Voices,
        request_for: Callable[[discord.Interaction], ChatRequest | None],
        defer_after: Callable[[], float],
    ) -> None:
        self._service = service
        self._voices = voices
        self._request_for = request_for
        self._defer_after = defer_after

    def arrive(self, message: discord.Message) -> Ticket:
        """The message's place in its channel's arrival order (synchronous: call it before any await)."""
        channel = message.channel
        place = place_of(channel, channel.id, message.guild.id if message.guild is not None else None)
        return self._service.npc.arrive_in(place.conversation_id)

    async def answer_message(
        self, message: discord.Message, request: ChatRequest, ticket: Ticket | None = None
    ) -> None:
        reference = None if request.is_dm else message.to_reference(fail_if_not_exists=False)
        channel = message.channel
        async for item in self._service.npc.reply(request, ticket):
            await self._show(channel, request, item, reference)

    async def answer_command(
        self, channel: Speakable, request: ChatRequest, ack: InteractionAck, shown: str
    ) -> None:
        """``/chat`` or ``/npc`` in an NPC channel: the interaction's answer shows the user's line ``shown``
        (or what is wrong with the command), and the cast answers in the channel."""
        answered = False
        async for item in self._service.npc.reply(request):
            if not answered:
                answered = True
                if isinstance(item, NpcNotice) and item.kind != "queued":
                    await self._voices.answer_ack(ack, item.text)  # the problem is the answer
                    continue
                await self._voices.answer_ack(ack, shown)
            await self._show(channel, request, item, None)
        if not answered:  # said in an earlier turn (merged), or nobody addressed
            await self._voices.answer_ack(ack, shown)

    def command(self) -> app_commands.Command[Any, Any, Any]:
        @app_commands.command(name=NPC_COMMAND, description="Talk to one of the characters cast here")
        @app_commands.describe(character="Which character (by name)", message="What you say to them")
        async def npc(interaction: discord.Interaction, character: str, message: str) -> None:
            await self._slash(interaction, character, message)

        return npc

    async def _slash(self, interaction: discord.Interaction, name: str, message: str) -> None:
        request = self._request_for(interaction)
        if request is None:
            return
        request = request.model_copy(update={"text": f"{name.strip()} {message.strip()}", "command": NPC_COMMAND})
        async with InteractionAck(interaction, defer_after=self._defer_after()) as ack:
            if not await self._service.first_delivery(request):
                return
            if is_blank(message) or is_blank(name):
                await self._voices.answer_ack(ack, f"Usage: {NPC_USAGE} (with some text)")
                return
            channel = interaction.channel
            if not isinstance(channel, Speakable):
                await self._voices.answer_ack(ack, "Characters cannot speak here.")
                return
            try:
                await self.answer_command(channel, request, ack, echo(request, name.strip(), message.strip()))
            except Exception:
                log.exception("/npc failed")

    async def _show(
        self, channel: Speakable, request: ChatRequest, item: NpcItem, reference: discord.MessageReference | None
    ) -> None:
        if isinstance(item, NpcNotice):
            await self._voices.say_in(channel, item.text, reference)
            return
        await self._speak(channel, request, item, None if item.scene else reference)

    async def _speak(
        self, channel: Speakable, request: ChatRequest, item: NpcReply, reference: discord.MessageReference | None
    ) -> None:
        persona = Persona(name=item.speaker.name, avatar_url=item.speaker.avatar_url)
        handles = await self._voices.speak_as(channel, request, item.events, persona, reference)
        posted = [posted_id(handle) for handle in handles]
        keys = [message_key(channel.id, found) for found in posted if found is not None]
        await self._service.npc.remember(request, item.speaker, keys)
