"""Rendering the core's plans on Discord: for a channel message (the character answers in the channel, quoting
the message) and for a slash command (the interaction's answer, acknowledged in time).

NPC casts: every member speaks through the channel's webhook under its own name and avatar, and the messages it
posted are remembered so a reply to one reaches that member; notices (queued, unknown name) come from the bot.
"""

from __future__ import annotations

import logging

import discord

from adapters.discord.interaction import InteractionAck
from adapters.discord.journal import Journaling
from adapters.discord.normalize import message_key
from adapters.discord.render import Persona, SentMessage, Speakable, WebhookPost
from adapters.discord.speech import Speech, once
from bot.models import ChatRequest, Speaker
from bot.npc import NpcItem, NpcNotice, NpcReply
from bot.plans import Cast, Plan, Say, Skip, Stream

log = logging.getLogger("charbridge.discord")


def persona_of(speaker: Speaker | None) -> Persona | None:
    return None if speaker is None else Persona(name=speaker.name, avatar_url=speaker.avatar_url)


def posted_id(handle: object) -> int | None:
    """The Discord message id behind a sink handle (webhook post or bot message)."""
    if isinstance(handle, WebhookPost):
        return handle.message_id
    if isinstance(handle, SentMessage):
        return handle.message.id
    return None


def echo(request: ChatRequest) -> str:
    """What a ``/chat`` or ``/npc`` answer shows in an NPC channel: who said what."""
    return f"💬 **{discord.utils.escape_markdown(request.user_name)}**: {request.text}"


class Answers:
    def __init__(self, speech: Speech) -> None:
        self._speech = speech

    async def to_message(self, message: discord.Message, request: ChatRequest, plan: Plan) -> None:
        """Answer a channel message (a DM is answered without quoting it)."""
        reference = None if request.is_dm else message.to_reference(fail_if_not_exists=False)
        channel = message.channel
        match plan:
            case Say():
                await self._speech.say_in(channel, plan.shown, reference)
                if plan.greeting is not None:
                    await self._speech.say_in(channel, plan.greeting, None)
            case Stream():
                persona = persona_of(await plan.speaker())
                journaling = None if plan.journal is None else Journaling(plan.journal, request.target)
                await self._speech.speak_in(
                    channel, plan.events, persona, plan.policy, reply_to=reference, in_dm=request.is_dm,
                    journaling=journaling,
                )  # fmt: skip
            case Cast():
                async for item in plan.items:
                    await self._show(channel, request.is_dm, plan, item, reference)

    async def to_interaction(
        self, ack: InteractionAck, request: ChatRequest, plan: Plan, shown: str | None = None
    ) -> None:
        """Answer a slash command through its interaction; in an NPC channel the answer shows ``shown`` (the
        user's line), else who said what."""
        match plan:
            case Say():
                await self._say(ack, request, plan)
            case Stream():
                persona = persona_of(await plan.speaker())
                prefix = persona.bold_name if persona is not None else ""
                policy = plan.policy(self._speech.policies["webhook"])
                await self._speech.stream_answer(ack, plan.events, prefix, policy)
            case Cast():
                await self._cast_command(ack, plan, shown or echo(request))
            case Skip(notice=Say() as notice):  # a command is always answered, even if the channel heard it
                await self._say(ack, request, notice)
            case _:
                await self._speech.answer(ack, "Nothing to answer here.")

    async def _say(self, ack: InteractionAck, request: ChatRequest, plan: Say) -> None:
        if plan.greeting is None:
            await self._speech.answer(ack, plan.shown)
            return
        if not plan.greeting_apart:  # /reset: the greeting under the character's name, in the same answer
            speaker = await plan.speaker() if plan.speaker is not None else None
            persona = persona_of(speaker)
            name = persona.bold_name if persona is not None else ""
            await self._speech.answer(ack, f"{plan.shown}\n\n{name}{plan.greeting}")
            return
        await self._speech.answer(ack, plan.shown)
        channel = ack.interaction.channel
        if isinstance(channel, Speakable):  # the character greets the channel itself
            speaker = await plan.speaker() if plan.speaker is not None else None
            await self._speech.speak_in(
                channel, once(plan.greeting), persona_of(speaker), plan.policy, reply_to=None, in_dm=request.is_dm
            )

    async def _cast_command(self, ack: InteractionAck, plan: Cast, shown: str) -> None:
        """``/chat`` or ``/npc`` in an NPC channel: the interaction's answer shows the user's line (or what is
        wrong with the command), and the cast answers in the channel."""
        channel = ack.interaction.channel
        if not isinstance(channel, Speakable):
            await self._speech.answer(ack, "Characters cannot speak here.")
            return
        answered = False
        async for item in plan.items:
            if not answered:
                answered = True
                if isinstance(item, NpcNotice) and item.kind != "queued":
                    await self._speech.answer(ack, item.text)  # the problem is the answer
                    continue
                await self._speech.answer(ack, shown)
            await self._show(channel, False, plan, item, None)
        if not answered:  # said in an earlier turn (merged), or nobody addressed
            await self._speech.answer(ack, shown)

    async def _show(
        self,
        channel: Speakable,
        in_dm: bool,
        plan: Cast,
        item: NpcItem,
        reference: discord.MessageReference | None,
    ) -> None:
        if isinstance(item, NpcNotice):
            await self._speech.say_in(channel, item.text, reference)
            return
        await self._speak(channel, in_dm, plan, item, None if item.scene else reference)

    async def _speak(
        self,
        channel: Speakable,
        in_dm: bool,
        plan: Cast,
        item: NpcReply,
        reference: discord.MessageReference | None,
    ) -> None:
        persona = Persona(name=item.speaker.name, avatar_url=item.speaker.avatar_url)
        result = await self._speech.speak_in(
            channel, item.events, persona, plan.policy, reply_to=reference, in_dm=in_dm
        )
        posted = [posted_id(handle) for handle in result.handles]
        await plan.remember(item.speaker, [message_key(channel.id, found) for found in posted if found is not None])
