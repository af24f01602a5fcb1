"""The fake Telegram's flood windows are rolling and as strict as Telegram's, counted exactly.

The real python-telegram-bot calls the fake over real sockets; the fake measures its windows on a manual
clock that the tests move, so every count is exact and no test depends on how fast the machine is.
"""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from fakes.telegram import Chat, FakeTelegram, FloodConfig, User

TOKEN = "123:TEST"
BOT_NAME = "CharBridgeBot"
SCALE = 0.25  # 1 Telegram second = 0.25 s on the fake's clock (a binary fraction: window edges are exact)


class ManualClock:
    """The fake's flood clock, moved by the test in Telegram seconds."""

    def __init__(self) -> None:
        self.start = 1000.0
        self.now = self.start

    def __call__(self) -> float:
        return self.now

    def at(self, telegram_seconds: float) -> None:
        self.now = self.start + telegram_seconds * SCALE


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after is then a timedelta, no warning


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    # A big per-chat burst takes the 1-per-second-per-chat rule out of the way: these tests count the
    # group and global windows.
    async with FakeTelegram(time_scale=SCALE, flood=FloodConfig(private_burst=1000), flood_clock=clock) as fake:
        fake.add_bot(TOKEN, BOT_NAME)
        yield fake


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    request = HTTPXRequest(httpx_kwargs={"trust_env": False})
    async with Bot(TOKEN, base_url=fake.base_url, request=request) as bot:
        yield bot


def telegram_seconds(error: RetryAfter) -> float:
    """The retry_after of a 429, back in Telegram seconds."""
    value = error.retry_after
    wire = value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
    return round(wire / SCALE, 6)


async def refused(bot: Bot, chat_id: int, text: str) -> float:
    """Send and expect a 429; returns its retry_after in Telegram seconds."""
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat_id, text)
    return telegram_seconds(caught.value)


def started_chats(fake: FakeTelegram, count: int) -> list[User]:
    users = [fake.add_user(f"User{i}") for i in range(count)]
    for user in users:
        fake.private_chat(user, started=True)
    return users


async def twenty_calls(bot: Bot, group: Chat, first_text: str) -> None:
    """Ten calls of each kind that counts: a send and nine edits, then ten chat actions."""
    first = await bot.send_message(group.id, first_text)
    for i in range(9):
        await bot.edit_message_text(f"{first_text} {i}", chat_id=group.id, message_id=first.message_id)
    for _ in range(10):
        await bot.send_chat_action(group.id, "typing")


async def test_private_chat_burst_then_retry_after_and_penalty(
    fake: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    fake.configure_flood(private_burst=3)  # Telegram's default: a short burst, then one a second
    alice = fake.add_user("Alice", "alice")
    fake.private_chat(alice, started=True)
    clock.at(0)
    sent = [await bot.send_message(alice.id, f"m{i}") for i in range(3)]
    with pytest.raises(RetryAfter) as first:
        await bot.edit_message_text("edits count too", chat_id=alice.id, message_id=sent[0].message_id)
    assert telegram_seconds(first.value) == 1
    assert fake.counters().penalties == 0
    clock.at(0.5)
    assert await refused(bot, alice.id, "too early") == 1  # before retry_after elapsed: a penalty
    counters = fake.counters()
    assert (counters.too_many_requests, counters.penalties) == (2, 1)
    assert counters.penalties_by_chat == {str(alice.id): 1}
    clock.at(1)
    assert (await bot.send_message(alice.id, "after waiting")).text == "after waiting"
    assert fake.counters().penalties == 1


async def test_storm_on_one_chat_only_until_calm(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    fake.configure_flood(enabled=False)
    alice, bob = started_chats(fake, 2)
    stormy = fake.private_chat(alice)
    fake.storm(stormy, retry_after=2)
    clock.at(0)
    assert await refused(bot, alice.id, "x") == 2
    assert (await bot.send_message(bob.id, "calm here")).text == "calm here"
    fake.calm()
    clock.at(1)
    assert await refused(bot, alice.id, "still within retry_after") == 1
    clock.at(2)
    assert (await bot.send_message(alice.id, "over")).text == "over"
    counters = fake.counters()
    assert counters.too_many_by_chat == {str(alice.id): 2} and counters.penalties == 1


async def test_group_twenty_in_any_rolling_minute(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    alice = fake.add_user("Alice")
    group = fake.add_group("Club", members=[alice], bots=[BOT_NAME])
    other = fake.add_group("Other", members=[alice], bots=[BOT_NAME])

    clock.at(0)
    for i in range(10):
        await bot.send_message(group.id, f"early {i}")
    clock.at(30)
    for i in range(5):
        await bot.send_message(group.id, f"late {i}")
        await bot.send_chat_action(group.id, "typing")
    clock.at(59)  # a token bucket of 20 + 1 per 3 s would have refilled 10 by now; the window has not moved
    assert await refused(bot, group.id, "twenty-first") == 1  # the calls at 0 leave the window at 60
    assert (await bot.send_message(other.id, "another group has its own window")).text
    clock.at(60)
    for i in range(10):  # exactly the ten calls made at 0 have left the window
        await bot.send_message(group.id, f"again {i}")
    assert await refused(bot, group.id, "one more") == 30  # the calls at 30 leave it at 90
    counters = fake.counters()
    assert (counters.too_many_requests, counters.penalties) == (2, 0)
    clock.at(80)
    assert await refused(bot, group.id, "before retry_after") == 10  # a penalty, with the time left
    assert fake.counters().penalties == 1
    clock.at(90)
    assert (await bot.send_message(group.id, "after the wait")).text == "after the wait"
    assert fake.counters().too_many_by_chat == {str(group.id): 3}


async def test_group_window_counts_edits_and_chat_actions(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    alice = fake.add_user("Alice")
    group = fake.add_group("Club", members=[alice], bots=[BOT_NAME])
    clock.at(0)
    await twenty_calls(bot, group, "start")
    clock.at(59.5)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_chat_action(group.id, "typing")
    assert telegram_seconds(caught.value) == 1  # half a second, rounded up to whole seconds as Telegram does
    clock.at(61)  # past the window and the 429's retry_after
    await twenty_calls(bot, group, "next minute")
    assert await refused(bot, group.id, "twenty-first") == 60


async def test_global_thirty_in_any_rolling_second(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    users = started_chats(fake, 6)
    clock.at(10.5)
    for i in range(15):
        await bot.send_message(users[i % 3].id, f"a{i}")
    clock.at(10.875)
    for i in range(15):
        await bot.send_message(users[i % 3].id, f"b{i}")
    assert await refused(bot, users[3].id, "thirty-first") == 1  # the first half leaves at 11.5
    clock.at(11.25)  # a new calendar second, but the rolling second (10.25, 11.25] still holds 30 calls
    assert await refused(bot, users[4].id, "across the boundary") == 1
    clock.at(11.5)  # the calls at 10.5 have left: room for exactly 15
    for i in range(15):
        await bot.send_message(users[i % 3].id, f"c{i}")
    assert await refused(bot, users[5].id, "forty-sixth") == 1
    counters = fake.counters()
    assert (counters.too_many_requests, counters.penalties) == (3, 0)
    assert fake.count("sendMessage", 200) == 45


async def test_global_window_is_per_bot(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    users = started_chats(fake, 2)
    fake.add_bot("456:OTHER", "OtherBot")
    fake.private_chat(users[1], "OtherBot", started=True)
    clock.at(0)
    for i in range(30):
        await bot.send_message(users[0].id, f"m{i}")
    assert await refused(bot, users[1].id, "thirty-first") == 1
    async with Bot("456:OTHER", base_url=fake.base_url,
                   request=HTTPXRequest(httpx_kwargs={"trust_env": False})) as other:
        assert (await other.send_message(users[1].id, "my own budget")).text == "my own budget"


async def test_unscaled_group_window_answers_whole_seconds_until_the_oldest_call_leaves(clock: ManualClock) -> None:
    async with FakeTelegram(flood=FloodConfig(private_burst=1000), flood_clock=clock) as fake:
        fake.add_bot(TOKEN, BOT_NAME)
        alice = fake.add_user("Alice")
        group = fake.add_group("Club", members=[alice], bots=[BOT_NAME])
        request = HTTPXRequest(httpx_kwargs={"trust_env": False})
        async with Bot(TOKEN, base_url=fake.base_url, request=request) as bot:
            for i in range(20):
                clock.now = clock.start + i  # one call a second, in real (unscaled) seconds
                await bot.send_message(group.id, f"m{i}")
            clock.now = clock.start + 20.25
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(group.id, "twenty-first")
    assert caught.value.retry_after == dtm.timedelta(seconds=40)  # 39.75 s until the call at 0 leaves, rounded up
