"""Retry-after on the wire, storms, group privacy, fault injection and the HTTP control API of the fake Telegram
(the flood windows are counted in test_fake_telegram_flood.py)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from fakes.telegram import FakeTelegram, FloodConfig
from fakes.telegram.flood import StormRule

TOKEN = "123:TEST"
BOT_NAME = "CharBridgeBot"
SCALE = 0.2  # 1 Telegram second = 200 ms: windows stay well above the fake's request latency


def direct_request() -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"trust_env": False})


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after is then a timedelta, no warning


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(time_scale=SCALE)
    fake.add_bot(TOKEN, BOT_NAME)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, request=direct_request(),
                   get_updates_request=direct_request()) as bot:
        yield bot


async def test_unscaled_retry_after_is_an_integer_on_the_wire() -> None:
    async with FakeTelegram(flood=FloodConfig(private_burst=1), flood_clock=lambda: 0.0) as fake:  # time stands still
        fake.add_bot(TOKEN, BOT_NAME)
        alice = fake.add_user("Alice")
        fake.private_chat(alice, started=True)
        url = f"{fake.base_url}{TOKEN}/sendMessage"
        async with aiohttp.ClientSession() as session:
            await session.post(url, data={"chat_id": str(alice.id), "text": "one"})
            async with session.post(url, data={"chat_id": str(alice.id), "text": "two"}) as reply:
                body = await reply.json()
    assert reply.status == 429
    assert body["parameters"] == {"retry_after": 1} and isinstance(body["parameters"]["retry_after"], int)
    assert body["description"] == "Too Many Requests: retry after 1"


def test_probabilistic_storm_is_deterministic_per_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        rule = StormRule(None, None, 0.5, 1, random.Random(seed))
        return [rule.hits((0, 1), 0.0) for _ in range(32)]

    assert pattern(7) == pattern(7)
    assert any(pattern(7)) and not all(pattern(7))
    assert pattern(7) != pattern(8)


async def test_group_privacy_mode(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice", "alice")
    other = fake.add_bot("456:OTHER", "OtherBot")
    group = fake.add_group("Club", members=[alice], bots=[BOT_NAME, other])
    ours = await bot.send_message(group.id, "I am here")
    texts = [
        "just chatting",            # not delivered with privacy on
        "/summon",                  # bare command: delivered
        "/summon@OtherBot",         # command for another bot: not delivered
        f"hey @{BOT_NAME} there",   # mention: delivered
    ]
    for text in texts:
        fake.user_sends(group, alice, text)
    fake.user_sends(group, alice, "a reply", reply_to=ours.message_id)
    fake.user_sends(group, other.user, f"bot talk @{BOT_NAME}")  # bots never hear other bots
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/summon", f"hey @{BOT_NAME} there", "a reply"]

    async with Bot("456:OTHER", base_url=fake.base_url, request=direct_request()) as other_bot:
        await other_bot.send_message(group.id, "the other bot spoke last")
    fake.user_sends(group, alice, "/summon")  # a bare command now goes to the other bot only
    fake.user_sends(group, alice, f"/summon@{BOT_NAME}")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in updates if u.message] == [f"/summon@{BOT_NAME}"]

    fake.set_privacy(BOT_NAME, False)
    fake.user_sends(group, alice, "now everything")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in updates if u.message] == ["now everything"]
    assert (await bot.get_me()).can_read_all_group_messages is True


async def test_admin_bots_ignore_privacy(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice")
    group = fake.add_group("Club", members=[alice], bots=[BOT_NAME])
    fake.add_bot_to_group(group, BOT_NAME, admin=True)
    fake.user_sends(group, alice, "plain text")
    assert [u.message.text for u in await bot.get_updates(timeout=0) if u.message] == ["plain text"]


async def test_own_messages_are_never_delivered(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice")
    group = fake.add_group("Club", members=[alice], bots=[BOT_NAME])
    fake.set_privacy(BOT_NAME, False)
    await bot.send_message(group.id, "from the bot")
    assert await bot.get_updates(timeout=0) == ()
    assert [m.text for m in fake.transcript(group)] == ["from the bot"]


async def test_injected_faults(fake: FakeTelegram) -> None:
    alice = fake.add_user("Alice")
    fake.private_chat(alice, started=True)
    fake.inject_fault("sendMessage", status=502, description="Bad Gateway")
    fake.inject_fault("sendMessage", status=400, description="Bad Request: message to edit not found")
    fake.inject_fault("sendMessage", status=200, delay=60)  # far longer than the client's read timeout
    async with Bot(TOKEN, base_url=fake.base_url, request=direct_request()) as bot:
        with pytest.raises(NetworkError) as gateway:
            await bot.send_message(alice.id, "x")
        assert not isinstance(gateway.value, BadRequest)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.send_message(alice.id, "x")
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "x", read_timeout=2)
        assert (await bot.send_message(alice.id, "works again")).text == "works again"
    assert fake.counters().faults_injected == 3


async def test_a_held_call_waits_for_its_release_and_only_the_named_text_is_held(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.add_user("Alice")
    fake.private_chat(alice, started=True)
    sent = await bot.send_message(alice.id, "draft")
    held = fake.inject_fault("editMessageText", status=200, hold=True, text="the final text")
    await bot.edit_message_text("a draft", chat_id=alice.id, message_id=sent.message_id)  # another text: not held
    final = asyncio.create_task(bot.edit_message_text("the final text", chat_id=alice.id, message_id=sent.message_id))
    await fake.wait_for(lambda: held.hits, timeout=10)
    assert not final.done() and fake.transcript(fake.private_chat(alice))[-1].text == "a draft"
    async with aiohttp.ClientSession(base_url=fake.url) as http, http.post("/_fake/release_holds") as reply:
        assert reply.status == 200
    await asyncio.wait_for(final, timeout=10)
    assert fake.transcript(fake.private_chat(alice))[-1].text == "the final text" and held.hits == 1


async def test_http_control_api_drives_a_standalone_fake(fake: FakeTelegram, bot: Bot) -> None:
    async with aiohttp.ClientSession(base_url=fake.url) as http:
        async with http.post("/_fake/users", json={"first_name": "Dana", "username": "dana"}) as reply:
            dana = await reply.json()
        async with http.post("/_fake/chats", json={"type": "supergroup", "title": "Den", "members": [dana["id"]],
                                                   "bots": [BOT_NAME], "forum": True}) as reply:
            den = await reply.json()
        async with http.post("/_fake/topics", json={"chat_id": den["id"], "name": "Lore"}) as reply:
            topic = (await reply.json())["message_thread_id"]
        async with http.post("/_fake/messages", json={"chat_id": den["id"], "user_id": dana["id"],
                                                      "text": f"@{BOT_NAME} hi", "thread_id": topic}) as reply:
            assert reply.status == 200
        updates = await bot.get_updates(timeout=0)
        message = updates[-1].message
        assert message is not None and message.message_thread_id == topic
        sent = await message.reply_text("hello Dana")
        await bot.edit_message_text("hello Dana!", chat_id=den["id"], message_id=sent.message_id)
        async with http.get("/_fake/wait_idle", params={"chat_id": str(den["id"]), "quiet": "0.05"}) as reply:
            [final] = await reply.json()
        assert [v["text"] for v in final["versions"]] == ["hello Dana", "hello Dana!"]
        async with http.post("/_fake/storm", json={"chat_id": den["id"], "retry_after": 2}) as reply:
            assert reply.status == 200
        with pytest.raises(RetryAfter):
            await bot.send_message(den["id"], "stormy")
        async with http.get("/_fake/counters") as reply:
            counters = await reply.json()
        assert counters["too_many_requests"] == 1 and counters["requests"]["sendMessage"] == 2
        async with http.post("/_fake/messages", json={"chat_id": 42, "user_id": 1, "text": "x"}) as reply:
            assert reply.status == 400
