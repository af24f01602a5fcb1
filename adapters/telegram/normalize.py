"""Telegram message -> ChatRequest. A pure function: no I/O, no bot calls.

Entities are read defensively: one that runs past the text is clipped to it, and one that covers nothing or
cuts a character in half (UTF-16 offsets in the middle of an emoji) is ignored, never a crash. A text with
nothing visible in it (only whitespace and zero-width or blank characters) becomes the empty text, which
the adapter answers with a hint instead of asking the character.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from telegram import Message, MessageEntity

from bot.models import ChatRequest, ReplyTarget

# Letters that render as nothing (Hangul fillers, braille blank); format characters (category Cf: zero width
# space, joiners, word joiner, byte order mark, direction marks, ...) are found by category.
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


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


def is_blank(text: str) -> bool:
    """Nothing visible: only whitespace, format characters (zero width and the like) and blank letters."""
    return all(char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) == "Cf" for char in text)


def entity_text(text: str, entity: MessageEntity) -> str | None:
    """The part of ``text`` an entity covers (UTF-16 offsets), clipped to the text; None when it covers
    nothing or would cut a character in half."""
    units = text.encode("utf-16-le")
    start = max(entity.offset, 0)
    end = min(entity.offset + entity.length, len(units) // 2)
    if end <= start:
        return None
    try:
        return units[start * 2 : end * 2].decode("utf-16-le")
    except UnicodeDecodeError:
        return None


def _command(message: Message, text: str, me: BotIdentity) -> tuple[str | None, str, bool]:
    """(command, remaining text, addressed to another bot) for a message starting with /command[@bot]."""
    entities = message.entities or ()
    first = next((e for e in entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None)
    covered = entity_text(text, first) if first is not None else None
    words = covered.split(maxsplit=1) if covered else []
    if not words or not words[0].startswith("/") or len(words[0]) < 2:
        return None, text, False
    word = words[0]  # the entity's own text, even if a bad entity runs on past it
    name, _, addressee = word[1:].partition("@")
    if addressee and addressee.lower() != me.username.lower():
        return name.lower(), text, True
    return name.lower(), text[len(word) :].strip(), False


def _mentions(message: Message, text: str, me: BotIdentity) -> list[str]:
    """The bot's @mentions as written in the text (its username, or a text mention of its id)."""
    found = []
    for entity in message.entities or ():
        if entity.type not in (MessageEntity.MENTION, MessageEntity.TEXT_MENTION):
            continue
        covered = entity_text(text, entity)
        value = covered.strip() if covered else ""
        if entity.type == MessageEntity.MENTION:
            value = value.split(maxsplit=1)[0] if value else ""
            if value[1:].lower() == me.username.lower() and value.startswith("@"):
                found.append(value)
        elif value and entity.user is not None and entity.user.id == me.id:
            found.append(value)
    return found


def _without_mentions(text: str, mentions: list[str]) -> str:
    """The text with the bot's @mentions taken out ("@Bot hello" -> "hello")."""
    for mention in mentions:
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
    mentions = _mentions(message, text, me) if message.text is not None else []
    if mentions:
        text = _without_mentions(text, mentions)
    if is_blank(text):
        text = ""  # e.g. only zero-width characters: nothing for the character to answer
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
