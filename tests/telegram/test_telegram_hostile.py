"""What a Telegram user can send besides plain text, end to end through the real python-telegram-bot adapter on
the fake Bot API: stickers, photos, voice messages and files, edits, commands the bot does not know and oversized
command arguments. Each gets an answer or a deliberate silence, and nothing of it logs an error."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.door import ONLY_TEXT
from fakes.telegram import Chat, User
from tests.telegram.conftest import CHARACTERS, TelegramWorld

ADA = CHARACTERS[0]
OWNER_ID = 1  # the test bridge's owners include telegram:1


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Any:
    """Nothing a user or Telegram sends may log an error or a traceback (warnings are fine)."""
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info is not None]
    assert not bad, [f"{r.levelname} {r.name}: {r.getMessage()}" for r in bad]


def sent_to_character(world: TelegramWorld) -> list[str]:
    return [
        received.frame["payload"]["turn"]["candidates"][0]["raw_content"]
        for received in world.cai.received("dm", "create_and_generate_turn")
    ]


def private(world: TelegramWorld, name: str = "Ann", user_id: int | None = None) -> tuple[User, Chat]:
    user = world.telegram.add_user(name, user_id=user_id)
    return user, world.telegram.private_chat(user)


def bot_texts(world: TelegramWorld, chat: Chat) -> list[str]:
    return [m.text for m in world.telegram.bot_messages(chat)]


async def test_media_in_a_private_chat_are_answered_once_a_while(world: TelegramWorld) -> None:
    """A sticker gets "I can only read text"; the stickers, photos and voice messages right after it get nothing
    more; a photo's caption is passed on as the message."""
    tg = world.telegram
    ann, chat = private(world)
    tg.user_sends_media(chat, ann, "sticker")
    await tg.wait_for_bot_message(chat, ONLY_TEXT, timeout=15)
    for kind in ("sticker", "photo", "voice", "document"):
        tg.user_sends_media(chat, ann, kind)  # type: ignore[arg-type]
    tg.user_sends_media(chat, ann, "photo", caption="what do you see?")  # the barrier: answered after the rest
    await tg.wait_for_bot_message(chat, ADA.reply_to("what do you see?"), timeout=15)
    assert bot_texts(world, chat).count(ONLY_TEXT) == 1
    assert sent_to_character(world) == ["what do you see?"]


async def test_media_in_a_group_are_answered_only_when_addressed_to_the_bot(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    group = tg.add_group("Tavern", members=[ann], bots=["CharBot"], supergroup=True)
    tg.set_privacy("CharBot", False)  # the bot sees every sticker; it must pick what to answer itself
    tg.user_sends_media(group, ann, "sticker")  # chatter: not for the bot
    asked = tg.user_sends(group, ann, "@CharBot hello")
    answer = await tg.wait_for_bot_message(group, ADA.reply_to("hello"), timeout=15)
    tg.user_sends_media(group, ann, "sticker", reply_to=answer)  # a sticker in reply to the bot is for it
    notice = await tg.wait_for_bot_message(group, ONLY_TEXT, timeout=15)
    assert notice.reply_to is not None and notice.reply_to.message_id != asked.message_id
    assert bot_texts(world, group).count(ONLY_TEXT) == 1


async def test_an_edited_message_is_not_answered_again(world: TelegramWorld) -> None:
    tg = world.telegram
    ann, chat = private(world)
    first = tg.user_sends(chat, ann, "tell me about ships")
    await tg.wait_for_bot_message(chat, ADA.reply_to("tell me about ships"), timeout=15)
    tg.user_edits(first, "tell me about the sea instead")
    tg.user_sends(chat, ann, "and about ports")  # the barrier
    await tg.wait_for_bot_message(chat, ADA.reply_to("and about ports"), timeout=15)
    assert sent_to_character(world) == ["tell me about ships", "and about ports"]
    assert len(tg.bot_messages(chat)) == 2


async def test_unknown_commands_and_oversized_arguments_get_short_answers(world: TelegramWorld) -> None:
    tg = world.telegram
    owner, chat = private(world, "Olga", user_id=OWNER_ID)
    tg.user_sends(chat, owner, "/" + "q" * 32)  # the longest command Telegram marks as one
    await tg.wait_for_bot_message(chat, f"I don't know /{'q' * 32}. Try /help.", timeout=15)
    huge = "ж" * 4000
    for args in (f"show {huge}", f"create {huge} ada", f"set ada {huge} 1", huge):
        tg.user_sends(chat, owner, f"/preset {args}")
    answers = await tg.wait_for(lambda: tg.bot_messages(chat)[1:] if len(tg.bot_messages(chat)) == 5 else None, 15)
    for answer in answers:
        assert answer.text.count("ж") <= 100 and "…" in answer.text
    assert sent_to_character(world) == []
