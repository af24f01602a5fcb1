"""How replies reach Discord: through the channel's webhook under the character's name and avatar, else as the
bot with the name in bold (telling the channel's admins once what is missing), or into a slash command's
interaction; every one relayed under the platform's pacing and tracked so a shutdown lets it finish."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Literal

import discord

from adapters.discord.interaction import InteractionAck, InteractionSink
from adapters.discord.journal import (
    Journaling,
    channel_decoder,
    channel_render,
    channel_sink_again,
    encode,
    persona_of,
    webhook_decoder,
    webhook_render,
    written_by,
)
from adapters.discord.render import ChannelSink, Persona, Speakable, WebhookSink
from adapters.discord.webhooks import Unavailable, WebhookParent, WebhookPool, webhook_parent
from bot.journal import Place, Reopened, ReplyTicket
from bot.keys import Notice
from bot.models import ReplyEvent, ReplyFinal, ReplyRecord
from bot.relay import Budgets, PacingPolicy, RelayResult, ReplySink, relay_reply

log = logging.getLogger("charbridge.discord")

PolicyKind = Literal["channel", "webhook"]
FirstTime = Callable[[Notice, float], Awaitable[bool]]

NOTICE_TTL = 7 * 86400.0  # an admin notice is repeated at most once a week per channel
ADMIN_NOTICES: dict[Unavailable, str] = {
    Unavailable.MISSING_PERMISSION: (
        "ℹ️ For admins: I need the **Manage Webhooks** permission in this channel so that characters can "
        "speak under their own name and avatar. Until then I answer as myself, with the character's name "
        "in bold."
    ),
    Unavailable.LIMIT_REACHED: (
        "ℹ️ For admins: this channel already has the 15 webhooks Discord allows, so characters cannot "
        "speak under their own name and avatar here. Delete an unused one (Edit Channel → Integrations → "
        "Webhooks) and they will. Until then I answer as myself."
    ),
}


async def once(text: str) -> AsyncIterator[ReplyEvent]:
    yield ReplyFinal(text=text)


class Speech:
    def __init__(self, policies: dict[PolicyKind, PacingPolicy], first_time: FirstTime) -> None:
        self.policies = policies
        self.webhooks = WebhookPool()
        self._budgets = Budgets.for_policy(policies["channel"])
        self._first_time = first_time
        self._replies: set[asyncio.Task[Any]] = set()
        self.owner = "discord:0"  # whose replies these are in the reply journal (the bot's id, once logged in)

    async def speak_in(
        self,
        channel: Speakable,
        events: AsyncIterator[ReplyEvent],
        persona: Persona | None,
        policy: Callable[[PacingPolicy], PacingPolicy],
        *,
        reply_to: discord.MessageReference | None,
        in_dm: bool,
        journaling: Journaling | None = None,
    ) -> RelayResult[Any]:
        """Relay a reply into a channel as ``persona``: through the channel's webhook, else as the bot with the
        name in bold (then telling the admins what is missing); as the bot itself when there is no persona.
        With ``journaling``, the reply is kept in the reply journal while it is written."""
        sink: ReplySink[Any] = ChannelSink(channel, reply_to=reply_to)
        render = channel_render(channel, "", reply_to is not None)
        kind: PolicyKind = "channel"
        shared: str | None = None  # the channel whose webhooks share Discord's per-channel cap
        problem: tuple[WebhookParent, Unavailable] | None = None
        if persona is not None:
            sink = ChannelSink(channel, prefix=persona.bold_name, reply_to=reply_to)
            render = channel_render(channel, persona.bold_name, reply_to is not None)
            parent = None if in_dm else webhook_parent(channel)
            if parent is not None:
                found = await self.webhooks.get(parent)
                if isinstance(found, discord.Webhook):
                    sink, kind = self._webhook_sink(found, persona, channel, parent), "webhook"
                    shared = f"discord:channel-webhooks:{parent.id}"
                    render = webhook_render(channel, found, persona)
                else:
                    problem = (parent, found)
        place = None if journaling is None else (journaling.ticket, journaling.place(self.owner, render))
        result = await self.relay(events, sink, policy(self.policies[kind]), shared=shared, journal=place)
        if problem is not None:
            await self._tell_admins(channel, *problem)
        return result

    async def say_in(self, channel: Speakable, text: str, reply_to: discord.MessageReference | None) -> None:
        """A plain message from the bot itself (notices, command answers in a channel)."""
        await self.relay(once(text), ChannelSink(channel, reply_to=reply_to), self.policies["channel"])

    async def answer(self, ack: InteractionAck, text: str) -> None:
        """A text as the interaction's answer."""
        await self.relay(once(text), InteractionSink(ack), self.policies["webhook"])

    async def stream_answer(
        self, ack: InteractionAck, events: AsyncIterator[ReplyEvent], prefix: str, policy: PacingPolicy
    ) -> None:
        """A streamed reply as the interaction's answer, below ``prefix`` (the character's bold name)."""
        await self.relay(events, InteractionSink(ack, prefix=prefix), policy)

    async def relay(
        self,
        events: AsyncIterator[ReplyEvent],
        sink: ReplySink[Any],
        policy: PacingPolicy,
        shared: str | None = None,
        journal: tuple[ReplyTicket, Place[Any]] | None = None,
    ) -> RelayResult[Any]:
        """Relay under ``policy``; ``shared`` names a pool of calls several destinations draw from; ``journal``
        keeps the reply in the reply journal meanwhile."""
        with self._tracked():
            if journal is None:
                result = await relay_reply(events, sink, policy, self._budgets, shared=shared)
            else:
                ticket, place = journal
                result = await ticket.relay(events, sink, policy, self._budgets, place, shared=shared)
        if not result.delivered:
            log.warning("a reply into %s was not fully delivered", sink.destination)
        return result

    async def reopen(self, channel: Speakable, record: ReplyRecord) -> Reopened[Any]:
        """Write into ``channel`` again to finish an interrupted reply, the way it was being written: through the
        channel's webhook (found again) under the same persona, else as the bot."""
        parent = webhook_parent(channel) if record.render.get("via") == "webhook" else None
        found = await self.webhooks.get(parent) if parent is not None else None
        if parent is not None and isinstance(found, discord.Webhook):
            sink = self._webhook_sink(found, persona_of(record), channel, parent)
            replaced = not all(written_by(found, part) for part in record.parts)  # posts of a webhook since deleted
            return Reopened(
                sink, decode=webhook_decoder(found), encode=encode, policy=self.policies["webhook"],
                budgets=self._budgets, shared=f"discord:channel-webhooks:{parent.id}", anew=replaced,
            )  # fmt: skip
        if parent is not None:  # no webhook any more: its posts cannot be edited; the bot posts the ending
            log.warning("no character webhook in #%s any more; the interrupted reply is posted anew", parent.id)
            voice = ChannelSink(channel, prefix=persona_of(record).bold_name)
            return Reopened(voice, decode=channel_decoder(channel, ""), encode=encode,
                            policy=self.policies["channel"], budgets=self._budgets, anew=True)  # fmt: skip
        prefix = record.render.get("prefix", "")
        return Reopened(
            channel_sink_again(channel, record), decode=channel_decoder(channel, prefix), encode=encode,
            policy=self.policies["channel"], budgets=self._budgets,
        )  # fmt: skip

    async def finish(self, grace: float) -> None:
        """Let the replies still being relayed finish, for at most ``grace`` seconds."""
        if self._replies:
            await asyncio.wait(set(self._replies), timeout=grace)

    def _webhook_sink(
        self, webhook: discord.Webhook, persona: Persona, channel: Speakable, parent: WebhookParent
    ) -> WebhookSink:
        thread = channel if isinstance(channel, discord.Thread) else None

        async def renew() -> discord.Webhook | None:
            return await self.webhooks.renew(parent)

        return WebhookSink(webhook, persona, typing_in=channel, thread=thread, renew=renew)

    async def _tell_admins(self, channel: Speakable, parent: WebhookParent, reason: Unavailable) -> None:
        notice = ADMIN_NOTICES.get(reason)
        if notice is None:
            return
        log.warning("no character webhook in #%s (%s): %s", parent.name, parent.id, reason.value)
        if await self._first_time(Notice("discord", reason.value, str(parent.id)), NOTICE_TTL):
            await self.relay(once(notice), ChannelSink(channel), self.policies["channel"])

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Remember the running reply so that a shutdown can let it finish."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._replies.add(task)
        try:
            yield
        finally:
            self._replies.discard(task)
