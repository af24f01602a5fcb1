"""Telegram message -> ChatRequest. A pure function: no I/O, no bot calls."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message, MessageEntity

from bot.models import ChatRequest, ReplyTarget


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str  # without the @


def conversation_id(chat_id: int) -> str:
    return f"telegram:{chat_id}"


def user_key(user_id: int) -> str:
    return f"telegram:{user_id}"


def message_key(chat_id: int, message_id: int) -> str:
    return f"telegram:{chat_id}:{message_id}"


def _command(message: Message, text: str, me: BotIdentity) -> tuple[str | None, str, bool]:
    """(command, remaining text, addressed to another bot) for a message starting with /command[@bot]."""
    entities = message.entities or ()
    first = next((e for e in entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None)
    if first is None:
        return None, text, False
    raw = message.parse_entity(first)[1:]
    name, _, addressee = raw.partition("@")
    if addressee and addressee.lower() != me.username.lower():
        return name.lower(), text, True
    return name.lower(), text[len(message.parse_entity(first)) :].strip(), False


def _mentions(message: Message, me: BotIdentity) -> list[MessageEntity]:
    found = []
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        is_me = (entity.type == MessageEntity.MENTION and value[1:].lower() == me.username.lower()) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == me.id
        )
        if is_me:
            found.append(entity)
    return found


def _without_mentions(message: Message, text: str, mentions: list[MessageEntity]) -> str:
    """The text with the bot's @mentions taken out ("@Bot hello" -> "hello")."""
    for entity in mentions:
        mention = message.parse_entity(entity)
        text = text.replace(f" {mention} ", " ", 1) if f" {mention} " in text else text.replace(mention, "", 1)
    return text.strip()


def normalize_message(message: Message, me: BotIdentity) -> ChatRequest | None:
    """The ChatRequest for a user's text message, or None when there is nothing for the bot (no text, a
    command for another bot, a message from a bot)."""
    if message.from_user is None or message.from_user.is_bot:
        return None
    text = message.text if message.text is not None else message.caption
    if text is None:
        return None
    chat = message.chat
    command, text, other_bot = _command(message, text, me)
    if other_bot:
        return None
    mentions = _mentions(message, me) if message.text is not None else []
    if mentions:
        text = _without_mentions(message, text, mentions)
    thread = str(message.message_thread_id) if message.is_topic_message and message.message_thread_id else None
    reply = message.reply_to_message
    # In a forum topic every message "replies" to the topic's creation; that is not a reply to anyone.
    real_reply = reply is not None and reply.forum_topic_created is None
    return ChatRequest(
        platform="telegram",
        conversation_id=conversation_id(chat.id),
        thread_id=thread,
        user_id=user_key(message.from_user.id),
        user_name=message.from_user.full_name,
        is_dm=chat.type == chat.PRIVATE,
        text=text,
        message_id=message_key(chat.id, message.message_id),
        reply_to_id=message_key(chat.id, reply.message_id) if reply is not None and real_reply else None,
        reply_to_bot=bool(
            real_reply and reply is not None and reply.from_user is not None and reply.from_user.id == me.id
        ),
        mentions_bot=bool(mentions),
        command=command,
        received_at=message.date,
        target=ReplyTarget(platform="telegram", chat=str(chat.id), thread=thread, reply_to=str(message.message_id)),
    )
