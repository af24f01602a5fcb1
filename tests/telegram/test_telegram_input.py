"""Awkward user input, end to end: the real python-telegram-bot in our adapter on the fake Bot API, our
Character.AI client on the fake Character.AI. What the character is sent is read from the fake's log."""

from __future__ import annotations

import logging

import pytest

from bot.door import NO_TEXT
from fakes.telegram import Chat, User
from fakes.telegram.entities import utf16_len
from tests.telegram.conftest import CHARACTERS, TelegramWorld

ADA = CHARACTERS[0]
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"  # space, non-joiner, joiner, word joiner, byte order mark
MARKUP = "<b>bold</b> *star* _under_ `tick` ```py\nx = 1\n``` [x](y) ~strike~ ||spoiler|| \\*esc\\* &amp; <i"


def sent_to_character(world: TelegramWorld) -> list[str]:
    """The user texts the fake Character.AI received, in order."""
    return [
        received.frame["payload"]["turn"]["candidates"][0]["raw_content"]
        for received in world.cai.received("dm", "create_and_generate_turn")
    ]


def private(world: TelegramWorld, name: str = "Ann") -> tuple[User, Chat]:
    user = world.telegram.add_user(name)
    return user, world.telegram.private_chat(user)


def open_group(world: TelegramWorld, *users: User) -> Chat:
    tg = world.telegram
    group = tg.add_group("Tavern", members=list(users), bots=["CharBot"], supergroup=True)
    tg.set_privacy("CharBot", False)  # the bot sees everything; it must pick what to answer itself
    return group


async def test_a_4096_character_message_reaches_the_character_exactly(world: TelegramWorld) -> None:
    tg = world.telegram
    ann, chat = private(world)
    with pytest.raises(ValueError, match="10000 characters"):
        tg.user_sends(chat, ann, "w" * 10_000)  # Telegram cannot deliver it, so neither can a test
    longest = "Ünïcödé 😀 " + "long words " * 370 + "the end."
    longest += "!" * (4096 - len(longest))
    assert len(longest) == 4096 and utf16_len(longest) == 4097  # Telegram counts code points
    world.cai.script_reply("ada", "I read every word.")
    tg.user_sends(chat, ann, longest)
    await tg.wait_for_bot_message(chat, "I read every word.", timeout=15)
    assert sent_to_character(world) == [longest]


async def test_a_character_with_a_lower_limit_gets_a_clear_answer_not_a_traceback(
    world: TelegramWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """The bridge sends the user's text as it is (cutting it would change what the user said); when the
    character's backend refuses it as too long, the user is told so in the chat, and the log has one line
    without a traceback."""
    tg = world.telegram
    world.cai.configure(max_message_length=2000)
    ann, chat = private(world)
    with caplog.at_level(logging.WARNING):
        tg.user_sends(chat, ann, "a story, " * 455)  # 4095 characters
        answer = await tg.wait_for(lambda: next(iter(tg.bot_messages(chat)), None), timeout=15)
        assert answer.text.endswith("The character could not take that message.")
        tg.user_sends(chat, ann, "shorter then")  # the conversation goes on
        await tg.wait_for_bot_message(chat, ADA.reply_to("shorter then"), timeout=15)
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    assert sent_to_character(world)[-1] == "shorter then"


@pytest.mark.parametrize("text", [ZERO_WIDTH, "\u2060", f" {ZERO_WIDTH}\n\u2060 "])
async def test_a_private_message_of_zero_width_characters_is_answered_without_the_character(
    world: TelegramWorld, text: str
) -> None:
    tg = world.telegram
    ann, chat = private(world)
    tg.user_sends(chat, ann, text)
    await tg.wait_for_bot_message(chat, NO_TEXT, timeout=15)
    tg.user_sends(chat, ann, "hello after all")
    await tg.wait_for_bot_message(chat, ADA.reply_to("hello after all"), timeout=15)
    assert sent_to_character(world) == ["hello after all"]


async def test_zero_width_text_after_a_mention_or_a_command_in_a_group(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    group = open_group(world, ann)
    tg.user_sends(group, ann, f"@CharBot {ZERO_WIDTH}")
    hint = await tg.wait_for_bot_message(group, NO_TEXT, timeout=15)
    assert hint.reply_to is not None and hint.reply_to.sender.id == ann.id
    tg.user_sends(group, ann, f"/chat@CharBot {ZERO_WIDTH}")
    await tg.wait_for_bot_message(group, "Usage: /chat <message>", timeout=15)
    tg.user_sends(group, ann, ZERO_WIDTH)  # not addressed to the bot: not answered at all
    tg.user_sends(group, ann, "@CharBot now a real question")
    await tg.wait_for_bot_message(group, ADA.reply_to("now a real question"), timeout=15)
    assert [m.text for m in tg.bot_messages(group)].count(NO_TEXT) == 1
    assert sent_to_character(world) == ["now a real question"]


async def test_entities_running_past_the_text_do_not_break_mentions_or_commands(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    group = open_group(world, ann)
    asks = [
        # A mention entity far longer than the text: clipped to it, the mention still counts.
        ("@CharBot tell me more", [{"type": "mention", "offset": 0, "length": 60}], "tell me more"),
        # Two emoji put the mention's UTF-16 offset past the text's length in code points.
        ("😀😀 @CharBot hi", None, "😀😀 hi"),
        # A mention entity that starts inside the emoji is ignored; the good one is used.
        ("😀 hello @CharBot", [{"type": "mention", "offset": 1, "length": 4},
                               {"type": "mention", "offset": 9, "length": 8}], "😀 hello"),
        # A command entity running past the text: the command is its first word.
        ("/chat@CharBot what now", [{"type": "bot_command", "offset": 0, "length": 99}], "what now"),
    ]
    for text, entities, _ in asks:
        tg.user_sends(group, ann, text, entities=entities)
    tg.user_sends(group, ann, "nobody called", entities=[{"type": "mention", "offset": 50, "length": 8}])
    for _, _, meant in asks:
        await tg.wait_for_bot_message(group, ADA.reply_to(meant), timeout=15)
    assert sorted(sent_to_character(world)) == sorted(meant for _, _, meant in asks)


async def test_markup_characters_reach_the_character_exactly(world: TelegramWorld) -> None:
    tg = world.telegram
    ann, chat = private(world)
    tg.user_sends(chat, ann, MARKUP)
    await tg.wait_for_bot_message(chat, ADA.reply_to(MARKUP), timeout=15)
    bob = tg.add_user("Bob")
    group = open_group(world, bob)
    tg.user_sends(group, bob, f"@CharBot {MARKUP}")
    await tg.wait_for_bot_message(group, ADA.reply_to(MARKUP), timeout=15)
    assert sent_to_character(world) == [MARKUP, MARKUP]
