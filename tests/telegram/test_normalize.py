"""Telegram updates (parsed by the real python-telegram-bot from Bot API JSON) -> ChatRequest."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from adapters.telegram.normalize import BotIdentity, normalize_message
from bot.models import ChatRequest

ME = BotIdentity(id=999, username="CharBot")
ANN = {"id": 42, "is_bot": False, "first_name": "Ann", "last_name": "Lee"}
GROUP = {"id": -100123, "type": "supergroup", "title": "Tavern"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Ann"}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message(text: str, chat: dict[str, Any] = GROUP, **extra: Any) -> dict[str, Any]:
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split(" ")[0])})
    for word in text.split(" "):
        if word.startswith("@"):
            start = text.index(word)
            entities.append({"type": "mention", "offset": utf16_len(text[:start]), "length": utf16_len(word)})
    body: dict[str, Any] = {"message_id": 7, "date": 1700000000, "chat": chat, "from": ANN, "text": text}
    if entities:
        body["entities"] = entities
    body.update(extra)
    return body


def normalize(body: dict[str, Any]) -> ChatRequest | None:
    update = Update.de_json({"update_id": 1, "message": body}, None)
    assert update is not None and update.message is not None
    return normalize_message(update.message, ME)


def test_private_chat() -> None:
    request = normalize(message("hello there", chat=PRIVATE))
    assert request is not None
    assert request.is_dm and request.conversation_id == "telegram:42" and request.conversation_key == "telegram:42"
    assert (request.user_id, request.user_name, request.text) == ("telegram:42", "Ann Lee", "hello there")
    assert request.message_id == "telegram:42:7" and request.target.reply_to == "7"
    assert request.command is None and not request.mentions_bot


def test_group_mention_is_detected_and_removed() -> None:
    request = normalize(message("hey @CharBot how are you"))
    assert request is not None and not request.is_dm
    assert request.mentions_bot and request.text == "hey how are you"
    assert request.conversation_id == "telegram:-100123" and request.target.chat == "-100123"


def test_mention_of_someone_else_is_not_a_mention_of_the_bot() -> None:
    request = normalize(message("ask @OtherBot instead"))
    assert request is not None and not request.mentions_bot and request.text == "ask @OtherBot instead"


def test_mention_after_emoji_uses_utf16_offsets() -> None:
    request = normalize(message("🧙‍♂️🎲 @CharBot roll"))
    assert request is not None and request.mentions_bot and request.text == "🧙‍♂️🎲 roll"


def test_reply_to_the_bot() -> None:
    bot_message = {"message_id": 5, "date": 1700000000, "chat": GROUP, "text": "hi",
                   "from": {"id": 999, "is_bot": True, "first_name": "Char", "username": "CharBot"}}
    request = normalize(message("and you?", reply_to_message=bot_message))
    assert request is not None and request.reply_to_bot and request.reply_to_id == "telegram:-100123:5"


def test_reply_to_a_person_is_not_a_reply_to_the_bot() -> None:
    other = {"message_id": 5, "date": 1700000000, "chat": GROUP, "text": "hi", "from": ANN}
    request = normalize(message("yes", reply_to_message=other))
    assert request is not None and not request.reply_to_bot and request.reply_to_id == "telegram:-100123:5"


def test_commands_with_and_without_the_bot_name() -> None:
    request = normalize(message("/chat@CharBot tell me a story"))
    assert request is not None and request.command == "chat" and request.text == "tell me a story"
    request = normalize(message("/Reset"))
    assert request is not None and request.command == "reset" and request.text == ""
    request = normalize(message("/preset use ada"))
    assert request is not None and (request.command, request.text) == ("preset", "use ada")


def test_a_command_for_another_bot_is_ignored() -> None:
    assert normalize(message("/chat@OtherBot hi")) is None


def test_forum_topic_has_a_thread_key() -> None:
    forum = {**GROUP, "is_forum": True}
    topic_start = {"message_id": 3, "date": 1700000000, "chat": forum, "from": ANN,
                   "message_thread_id": 3, "forum_topic_created": {"name": "Quest", "icon_color": 7322096}}
    request = normalize(message("@CharBot hi", chat=forum, message_thread_id=3, is_topic_message=True,
                                reply_to_message=topic_start))
    assert request is not None
    assert request.thread_id == "3" and request.conversation_key == "telegram:-100123/3"
    assert request.target.thread == "3"
    assert request.reply_to_id is None and not request.reply_to_bot


def test_messages_without_text_or_from_bots_are_skipped() -> None:
    sticker = {"message_id": 9, "date": 1700000000, "chat": GROUP, "from": ANN,
               "sticker": {"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1,
                           "is_animated": False, "is_video": False, "type": "regular"}}
    assert normalize(sticker) is None
    from_bot = message("hello")
    from_bot["from"] = {"id": 5, "is_bot": True, "first_name": "Other"}
    assert normalize(from_bot) is None


def test_caption_counts_as_text() -> None:
    photo = {"message_id": 9, "date": 1700000000, "chat": PRIVATE, "from": ANN, "caption": "look at this",
             "photo": [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]}
    request = normalize(photo)
    assert request is not None and request.text == "look at this"


def test_a_text_mention_of_the_bot_counts_and_is_taken_out() -> None:
    bot_user = {"id": ME.id, "is_bot": True, "first_name": "Char Bot"}
    request = normalize(message("Char Bot what now", entities=[
        {"type": "text_mention", "offset": 0, "length": 8, "user": bot_user},
    ]))
    assert request is not None and request.mentions_bot and request.text == "what now"


@pytest.mark.parametrize(
    "entities",
    [
        [{"type": "mention", "offset": -3, "length": 2}],  # before the text
        [{"type": "mention", "offset": 2, "length": 0}],  # covers nothing
        [{"type": "mention", "offset": 40, "length": 8}],  # after the text
        [{"type": "mention", "offset": 4, "length": 2}],  # ends inside the emoji
        [{"type": "bot_command", "offset": 0, "length": 1}],  # a lone "/" is no command
    ],
)
def test_broken_entities_are_ignored(entities: list[dict[str, Any]]) -> None:
    request = normalize(message("/ hi 😀 @CharBot", entities=entities))
    assert request is not None
    assert (request.command, request.mentions_bot, request.text) == (None, False, "/ hi 😀 @CharBot")


@pytest.mark.parametrize("text", ["\u200b\u200c\u200d\u2060\ufeff", "\u3164", " \u2800\u200e ", "\u00ad"])
def test_invisible_text_is_empty(text: str) -> None:
    request = normalize(message(text, chat=PRIVATE))
    assert request is not None and request.text == ""


def test_joiners_inside_words_and_emoji_are_kept() -> None:
    text = "\U0001f468\u200d\U0001f469\u200d\U0001f467 fa\u200bmily"
    request = normalize(message(text, chat=PRIVATE))
    assert request is not None and request.text == text
