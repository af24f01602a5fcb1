"""Telegram message -> ChatRequest. A pure function: no I/O, no bot calls.

Entities are read defensively: one that runs past the text is clipped to it, and one that covers nothing or
cuts a character in half (UTF-16 offsets in the middle of an emoji) is ignored, never a crash. A text with
nothing visible in it (only whitespace and zero-width or blank characters) becomes the empty text, which
the adapter answers with a hint instead of asking the character. Lone UTF-16 surrogates (JSON escapes such as
"\\ud800") become U+FFFD in the text and the user's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Message, MessageEntity
from telegram.constants import MessageAttachmentType

from bot.models import ChatRequest, ReplyTarget
from bot.text import clean_text, is_blank

# What a user can send besides text (photos, stickers, voice, files, polls, locations, ...); a payment is no
# user's content (and asking python-telegram-bot's effective_attachment about one warns).
_MEDIA = tuple(kind.value for kind in MessageAttachmentType if kind is not MessageAttachmentType.SUCCESSFUL_PAYMENT)


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


def entity_span(text: str, entity: MessageEntity) -> tuple[int, int] | None:
    """The slice ``[start, end)`` of ``text`` an entity covers (its offsets are UTF-16 units), clipped to the
    text; None when it covers nothing or would cut a character in half."""
    units = text.encode("utf-16-le")
    start = max(entity.offset, 0)
    end = min(entity.offset + entity.length, len(units) // 2)
    if end <= start:
        return None
    try:
        before = units[: start * 2].decode("utf-16-le")
        covered = units[start * 2 : end * 2].decode("utf-16-le")
    except UnicodeDecodeError:
        return None
    return len(before), len(before) + len(covered)


def entity_text(text: str, entity: MessageEntity) -> str | None:
    """The part of ``text`` an entity covers (see ``entity_span``)."""
    span = entity_span(text, entity)
    return text[span[0] : span[1]] if span is not None else None


def _command(entities: Sequence[MessageEntity], text: str, me: BotIdentity) -> tuple[str | None, int, bool]:
    """(command, where the text after it starts, addressed to another bot) for a text starting with
    /command[@bot]."""
    first = next((e for e in entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None)
    covered = entity_text(text, first) if first is not None else None
    if not covered or not covered.startswith("/"):
        return None, 0, False
    word = covered.split(maxsplit=1)[0]  # the entity's own text, even if a bad entity runs on past it
    if len(word) < 2:
        return None, 0, False
    name, _, addressee = word[1:].partition("@")
    return name.lower(), len(word), bool(addressee) and addressee.lower() != me.username.lower()


def _mentions(entities: Sequence[MessageEntity], text: str, me: BotIdentity) -> list[tuple[int, int]]:
    """Where the bot is mentioned in the text (its @username, or a text mention of its id), as slices."""
    found = []
    for entity in entities:
        if entity.type not in (MessageEntity.MENTION, MessageEntity.TEXT_MENTION):
            continue
        span = entity_span(text, entity)
        if span is None:
            continue
        covered = text[span[0] : span[1]]
        start = span[0] + len(covered) - len(covered.lstrip())
        value = covered.strip()
        if entity.type == MessageEntity.MENTION:
            value = value.split(maxsplit=1)[0] if value else ""
            if not (value.startswith("@") and value[1:].lower() == me.username.lower()):
                continue
        elif not value or entity.user is None or entity.user.id != me.id:
            continue
        found.append((start, start + len(value)))
    return found


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the slices ``spans`` taken out ("@Bot hello" -> "hello", "hey @Bot you" -> "hey you")."""
    kept, position = "", 0
    for start, end in sorted(spans):
        kept = _joined(kept, text[position:start]) if start > position else kept
        position = max(position, end)
    return _joined(kept, text[position:]).strip()


def _joined(left: str, right: str) -> str:
    return left + right[1:] if left.endswith(" ") and right.startswith(" ") else left + right


def has_media(message: Message) -> bool:
    """The message carries something besides text: a photo, sticker, voice message, file, poll, ..."""
    return any(getattr(message, kind, None) for kind in _MEDIA)


def normalize_message(message: Message, me: BotIdentity) -> ChatRequest | None:
    """The ChatRequest for a user's message (its text, or a caption; media alone give the empty text), or None
    when there is nothing for the bot (a service message, a command for another bot, a message from a bot).
    An edited message is marked ``edited``."""
    if message.from_user is None or message.from_user.is_bot:
        return None
    media = has_media(message)
    text = message.text if message.text is not None else message.caption
    if text is None and not media:
        return None
    text = clean_text(text or "")  # keeps UTF-16 lengths, so the entities still fit
    chat = message.chat
    entities = message.entities if message.text is not None else ()  # a caption's entities are not read
    command, after_command, other_bot = _command(entities, text, me)
    if other_bot:
        return None
    mentions = _mentions(entities, text, me)  # offsets into the text as sent, so before anything is cut
    if command is not None or mentions:
        text = _without(text, [(0, after_command), *mentions])
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
        user_name=clean_text(message.from_user.full_name),
        is_dm=chat.type == chat.PRIVATE,
        text=text,
        message_id=message_key(chat.id, message.message_id),
        reply_to_id=message_key(chat.id, reply.message_id) if reply is not None and real_reply else None,
        reply_to_bot=bool(
            real_reply and reply is not None and reply.from_user is not None and reply.from_user.id == me.id
        ),
        mentions_bot=bool(mentions),
        command=command,
        has_media=media,
        edited=message.edit_date is not None,
        received_at=message.date,
        target=ReplyTarget(platform="telegram", chat=str(chat.id), thread=thread, reply_to=str(message.message_id)),
    )
