"""Discord's side of the reply journal (``bot.journal``): how a reply's messages are written down, and how they are
found again after a restart to be finished.

A webhook message is ``w:<webhook id>:<message id>`` (its webhook's token is never stored: the channel's webhook
is found again by the pool); a message of the bot itself is ``m:<message id>``, with ``:p`` when it starts with the
character's bold name. The place's notes (``render``) say which way the reply went and as whom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from adapters.discord.render import ChannelSink, Persona, SentMessage, Speakable, WebhookPost
from bot.journal import Place, ReplyTicket
from bot.models import ReplyRecord, ReplyTarget

Handle = WebhookPost | SentMessage


@dataclass(frozen=True)
class Journaling:
    """A reply to journal while it is relayed: its ticket and where it was asked for."""

    ticket: ReplyTicket
    target: ReplyTarget

    def place(self, owner: str, render: dict[str, str]) -> Place[Any]:
        return Place(owner=owner, target=self.target, encode=encode, render=render)


def encode(handle: Handle) -> str:
    if isinstance(handle, WebhookPost):
        return f"w:{handle.webhook.id}:{handle.message_id}"
    return f"m:{handle.message.id}" + (":p" if handle.prefix else "")


def webhook_render(channel: Speakable, webhook: discord.Webhook, persona: Persona) -> dict[str, str]:
    return {
        "via": "webhook", "channel": str(channel.id), "webhook": str(webhook.id), "name": persona.name or "",
        "avatar": persona.avatar_url or "",
    }  # fmt: skip


def channel_render(channel: Speakable, prefix: str, quoted: bool) -> dict[str, str]:
    return {"via": "channel", "channel": str(channel.id), "prefix": prefix, "quote": "yes" if quoted else ""}


def persona_of(record: ReplyRecord) -> Persona:
    return Persona(name=record.render.get("name") or None, avatar_url=record.render.get("avatar") or None)


def written_by(webhook: discord.Webhook, handle: str) -> bool:
    """Whether a journaled message is a post of ``webhook`` (only that webhook can edit it)."""
    return handle.startswith(f"w:{webhook.id}:")


def webhook_decoder(webhook: discord.Webhook) -> Callable[[str], WebhookPost]:
    """Handles of a reply written through the channel's webhook."""

    def decode(text: str) -> WebhookPost:
        return WebhookPost(webhook, int(text.rsplit(":", 1)[1]))

    return decode


def channel_decoder(channel: Speakable, prefix: str) -> Callable[[str], SentMessage]:
    """Handles of a reply the bot wrote itself into ``channel``."""

    def decode(text: str) -> SentMessage:
        _, message_id, *flags = text.split(":")
        message = channel.get_partial_message(int(message_id))  # type: ignore[union-attr]
        return SentMessage(message, prefix if flags else "")

    return decode


def channel_sink_again(channel: Speakable, record: ReplyRecord) -> ChannelSink:
    """The bot's own voice in ``channel`` again: the bold name and the quote only for a first message still to be
    written."""
    render, target = record.render, record.target
    if record.parts:
        return ChannelSink(channel)
    reference = None
    if render.get("quote") and target.reply_to:
        reference = discord.MessageReference(
            message_id=int(target.reply_to), channel_id=channel.id, fail_if_not_exists=False
        )
    return ChannelSink(channel, prefix=render.get("prefix", ""), reply_to=reference)
