"""Message text rules of the fake Telegram: what users can send, what bots may send, and entities as given."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest
from telegram.request import HTTPXRequest

from fakes.telegram import FakeTelegram

TOKEN = "123:TEST"
BOT_NAME = "CharBridgeBot"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"  # space, non-joiner, joiner, word joiner, byte order mark


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(time_scale=0.01) as fake:
        fake.add_bot(TOKEN, BOT_NAME)
        yield fake


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, request=HTTPXRequest(httpx_kwargs={"trust_env": False})) as bot:
        yield bot


async def delivered_texts(bot: Bot) -> list[str]:
    return [update.message.text or "" for update in await bot.get_updates(timeout=0) if update.message]


async def test_a_user_message_is_at_most_4096_characters(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice")
    chat = fake.private_chat(alice)
    with pytest.raises(ValueError, match="10000 characters"):
        fake.user_sends(chat, alice, "x" * 10_000)
    with pytest.raises(ValueError, match="4097 characters"):
        fake.user_sends(chat, alice, "é" * 4097)  # code points, not bytes
    longest = "é" + "y" * 4094 + "😀"  # 4096 code points (4097 UTF-16 units): Telegram counts code points
    fake.user_sends(chat, alice, f"  {longest}\n")  # trimmed, as Telegram does
    async with aiohttp.ClientSession(base_url=fake.url) as http:
        body = {"chat_id": alice.id, "user_id": alice.id, "text": "z" * 4097}
        async with http.post("/_fake/messages", json=body) as reply:
            assert reply.status == 400
            assert "4097 characters" in (await reply.json())["error"]
    assert await delivered_texts(bot) == [longest]


@pytest.mark.parametrize("text", ["", "   \n", "\u200b\u200c\u200d\ufeff", "\u00a0\u2800\u200e\u200f", " \ufeff "])
async def test_a_user_cannot_send_a_message_without_visible_characters(fake: FakeTelegram, text: str) -> None:
    alice = fake.add_user("Alice")
    with pytest.raises(ValueError, match="empty message"):
        fake.user_sends(fake.private_chat(alice), alice, text)


async def test_word_joiners_are_not_empty_to_telegram(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice")
    chat = fake.private_chat(alice)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # joiners inside an emoji sequence stay
    for text in ("\u2060", ZERO_WIDTH, family):
        fake.user_sends(chat, alice, text)
    assert await delivered_texts(bot) == ["\u2060", ZERO_WIDTH, family]


async def test_a_bot_cannot_send_only_invisible_characters(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice")
    fake.private_chat(alice, started=True)
    with pytest.raises(BadRequest, match="Message must be non-empty"):
        await bot.send_message(alice.id, "\u200b\ufeff")
    sent = await bot.send_message(alice.id, "hello")
    with pytest.raises(BadRequest, match="Message must be non-empty"):
        await bot.edit_message_text("\u200d", chat_id=alice.id, message_id=sent.message_id)
    assert (await bot.send_message(alice.id, "\u2060")).text == "\u2060"


async def test_given_entities_reach_the_bot_as_they_are(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice")
    odd = [{"type": "mention", "offset": 3, "length": 40}, {"type": "bold", "offset": 90, "length": 2}]
    fake.user_sends(fake.private_chat(alice), alice, f"hi @{BOT_NAME}", entities=odd)
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [("mention", 3, 40), ("bold", 90, 2)]
