"""Discord message or interaction -> ChatRequest. Pure functions: no I/O, no client calls.

Text is passed on exactly as written (Markdown, HTML-like tags and all), with mentions of the bot taken out
and other mentions shown as names; a text of nothing but whitespace and invisible characters (zero-width
spaces, joiners, fillers) counts as empty.

Ids: a guild channel is ``discord:<guild>:<channel>``; a thread keeps its PARENT channel's conversation id and
carries its own id as ``thread_id`` (so a thread without a binding of its own falls back to its channel's);
a DM is ``discord:dm:<channel>``; users are ``discord:<user>``; messages (and slash command invocations)
are ``discord:<channel the message is in>:<message or interaction id>``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.models import ChatRequest, ReplyTarget
from bot.text import is_blank

PLATFORM = "discord"
ANSWERED_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
_GAP = "\x00"  # where a mention of the bot was taken out
_GAPS = re.compile(r"[ \t]*(?:\x00[ \t]*)+")
_EDGE_GAPS = re.compile(r"(^|\n)\x00|\x00(?=\n|$)")
_SUBCOMMAND, _SUBCOMMAND_GROUP = 1, 2
# Characters that show nothing although they are neither whitespace nor format characters (Cf, which holds
# the zero-width space and joiners, the word joiner, the BOM and the direction marks): the combining
# grapheme joiner, the Hangul fillers and the blank Braille pattern, favourites for "empty" messages.
@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is: its user id and the ids of its character webhooks (a live set the adapter grows)."""

    id: int
    webhook_ids: Collection[int] = field(default_factory=frozenset)

    def wrote(self, message: discord.Message) -> bool:
        """The bot wrote it, itself or through one of its webhooks (as a character)."""
        if message.author.id == self.id:
            return True
        return message.webhook_id is not None and message.webhook_id in self.webhook_ids


@dataclass(frozen=True)
class Place:
    """Where a message was written, as ids."""

    conversation_id: str
    thread_id: str | None  # raw thread id when written in a thread
    chat: str  # raw id of the channel that owns the conversation (a thread's parent, or the channel / DM)
    guild: str | None
    is_dm: bool


def conversation_id(guild_id: int | None, channel_id: int) -> str:
    return f"{PLATFORM}:dm:{channel_id}" if guild_id is None else f"{PLATFORM}:{guild_id}:{channel_id}"


def user_key(user_id: int) -> str:
    return f"{PLATFORM}:{user_id}"


def message_key(channel_id: int, message_id: int) -> str:
    return f"{PLATFORM}:{channel_id}:{message_id}"


def place_of(channel: object, channel_id: int, guild_id: int | None) -> Place:
    """The place of a channel object (a Thread knows its parent) or, for a partial one, of its ids."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent_id
        return Place(
            conversation_id=conversation_id(channel.guild.id, parent),
            thread_id=str(channel.id),
            chat=str(parent),
            guild=str(channel.guild.id),
            is_dm=False,
        )
    if isinstance(channel, discord.DMChannel | discord.GroupChannel) or guild_id is None:
        return Place(conversation_id(None, channel_id), None, str(channel_id), None, is_dm=True)
    return Place(conversation_id(guild_id, channel_id), None, str(channel_id), str(guild_id), is_dm=False)


def _bot_tokens(message: discord.Message, me: BotIdentity) -> list[str]:
    """How the bot can be mentioned in the text: its user, or the role Discord made for it."""
    tokens = [f"<@{me.id}>", f"<@!{me.id}>"]
    tokens += [f"<@&{role.id}>" for role in message.role_mentions if role.tags and role.tags.bot_id == me.id]
    return tokens


def readable_text(message: discord.Message, me: BotIdentity) -> tuple[str, bool]:
    """The content with the bot's mention taken out and other mentions shown as names ("<@42>" ->
    "@ann"), and whether the bot was mentioned."""
    text, mentioned = _take_out(message.content, _bot_tokens(message, me))
    for user in message.mentions:
        if user.id != me.id:
            name = f"@{user.display_name}"
            text = text.replace(f"<@{user.id}>", name).replace(f"<@!{user.id}>", name)
    for role in message.role_mentions:
        text = text.replace(f"<@&{role.id}>", f"@{role.name}")
    for channel in message.channel_mentions:
        text = text.replace(f"<#{channel.id}>", f"#{channel.name}")
    return _close_gaps(text), mentioned


def _take_out(text: str, tokens: list[str]) -> tuple[str, bool]:
    found = False
    for token in tokens:
        if token in text:
            found = True
            text = text.replace(token, _GAP)
    return text, found


def _close_gaps(text: str) -> str:
    """Each run of taken-out mentions becomes one space, or nothing at the start or end of a line."""
    text = _GAPS.sub(_GAP, text)
    text = _EDGE_GAPS.sub(r"\1", text).replace(_GAP, " ").strip()
    return "" if is_blank(text) else text  # a message of zero-width characters is an empty one


def _replied(message: discord.Message) -> discord.Message | None:
    reference = message.reference
    if reference is None:
        return None
    if isinstance(reference.resolved, discord.Message):
        return reference.resolved
    return reference.cached_message


def normalize_message(message: discord.Message, me: BotIdentity) -> ChatRequest | None:
    """The ChatRequest for a user's message, or None when it is nothing for the bot: the bot's own
    messages, its webhooks' (and any other bot's or webhook's, so bots never talk in loops), system
    messages."""
    if message.author.bot or message.webhook_id is not None:
        return None
    if message.type not in ANSWERED_TYPES:
        return None
    channel = message.channel
    place = place_of(channel, channel.id, message.guild.id if message.guild is not None else None)
    text, mentioned = readable_text(message, me)
    reference = message.reference
    reply_to_id = None
    if message.type is discord.MessageType.reply and reference is not None and reference.message_id is not None:
        reply_to_id = message_key(reference.channel_id or channel.id, reference.message_id)
    replied = _replied(message) if reply_to_id is not None else None
    return ChatRequest(
        platform=PLATFORM,
        conversation_id=place.conversation_id,
        thread_id=place.thread_id,
        user_id=user_key(message.author.id),
        user_name=message.author.display_name,
        is_dm=place.is_dm,
        text=text,
        message_id=message_key(channel.id, message.id),
        reply_to_id=reply_to_id,
        reply_to_bot=replied is not None and me.wrote(replied),
        mentions_bot=mentioned,
        received_at=message.created_at,
        target=_target(place, str(message.id)),
    )


def _quoted(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if any(ch.isspace() for ch in text) else text


def _option_words(options: list[dict[str, Any]]) -> list[str]:
    """Subcommand names and option values in order, for commands whose core parser reads text."""
    words: list[str] = []
    for option in options:
        if option.get("type") in (_SUBCOMMAND, _SUBCOMMAND_GROUP):
            words.append(str(option["name"]))
            words += _option_words(option.get("options") or [])
        elif "value" in option:
            words.append(_quoted(option["value"]))
    return words


def command_text(data: dict[str, Any]) -> str:
    """A slash command's text: the ``message`` option when it has one (``/chat message:<text>``), else
    its subcommands and values joined by spaces (``/preset use name:kira`` -> ``use kira``; values with
    spaces are double-quoted)."""
    options: list[dict[str, Any]] = list(data.get("options") or [])
    for option in options:
        if option.get("name") == "message" and "value" in option:
            return str(option["value"]).strip()
    return " ".join(_option_words(options))


def command_name(interaction: discord.Interaction) -> str | None:
    """The name of a slash command interaction's command."""
    data: dict[str, Any] = dict(interaction.data or {})
    name = data.get("name")
    return name.lower() if isinstance(name, str) else None


def normalize_interaction(interaction: discord.Interaction, me: BotIdentity) -> ChatRequest | None:
    """The ChatRequest for a slash command (``command`` is its name), or None for other interactions."""
    if interaction.type is not discord.InteractionType.application_command or interaction.channel_id is None:
        return None
    name = command_name(interaction)
    if name is None:
        return None
    channel_id = interaction.channel_id
    place = place_of(interaction.channel, channel_id, interaction.guild_id)
    text, _ = _take_out(command_text(dict(interaction.data or {})), [f"<@{me.id}>", f"<@!{me.id}>"])
    user = interaction.user
    target = _target(place, None, interaction=str(interaction.id))
    return ChatRequest(
        platform=PLATFORM,
        conversation_id=place.conversation_id,
        thread_id=place.thread_id,
        user_id=user_key(user.id),
        user_name=user.display_name,
        is_dm=place.is_dm,
        text=_close_gaps(text),
        message_id=message_key(channel_id, interaction.id),
        command=name,
        received_at=interaction.created_at,
        target=target,
    )


def _target(place: Place, reply_to: str | None, **extra: str) -> ReplyTarget:
    if place.guild is not None:
        extra["guild"] = place.guild
    return ReplyTarget(platform=PLATFORM, chat=place.chat, thread=place.thread_id, reply_to=reply_to, extra=extra)
