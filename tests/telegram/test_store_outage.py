"""Issue 19: Redis stopped under a running bridge (the real python-telegram-bot against the fake Bot API). A store
outage is not silence: each chat hears "temporarily unavailable" once, the log says so once (no traceback per
message), and when Redis is back the bridge answers again by itself, with its bindings intact."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.unavailable import STORE_DOWN_TEXT
from fakes.telegram.world import Chat, StoredMessage
from tests.redis_process import running_redis
from tests.telegram.conftest import CHARACTERS, QUIET, TelegramWorld, close_world, open_world

ADA, REX = CHARACTERS
LOG_TIMEOUT = 20.0


def notices(world: TelegramWorld, chat: Chat) -> list[StoredMessage]:
    return [m for m in world.telegram.bot_messages(chat) if STORE_DOWN_TEXT in m.text]


def store_lines(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if words in r.getMessage()]


async def told(world: TelegramWorld, chat: Chat) -> None:
    await world.telegram.wait_for(lambda: notices(world, chat), timeout=15)


async def logged(world: TelegramWorld, found: Callable[[], bool]) -> None:
    """Wait until ``found()`` holds: re-checked after every Bot API call, with a generous timeout."""
    await world.telegram.wait_for(found, timeout=LOG_TIMEOUT)


async def test_a_redis_outage_is_told_once_per_chat_logged_once_and_the_bridge_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_redis(tmp_path / "redis") as redis_server:
        # A notice window far longer than the test: "once per window" is then exactly once per chat.
        storage = {"redis_url": redis_server.url, "key_prefix": "outage:", "outage_notice_every": "600"}
        world = await open_world(tmp_path / "bridge", storage=storage)
        try:
            tg = world.telegram
            ann, bea = tg.add_user("Ann"), tg.add_user("Bea")
            private = tg.private_chat(ann)
            group = tg.add_group("Guild", members=[bea], bots=["CharBot"], admins=[bea], supergroup=True)
            # Before: a reply in the private chat, and the group bound by its admin to another character.
            tg.user_sends(private, ann, "before the outage")
            await tg.wait_for_bot_message(private, ADA.reply_to("before the outage"), timeout=15)
            tg.user_sends(group, bea, "/preset use rex-per-user")
            await tg.wait_for(lambda: any("Bound" in m.text for m in tg.bot_messages(group)), timeout=15)
            await tg.wait_idle(group, quiet=QUIET, timeout=10)  # the bound character's greeting is in too
            before = {chat.id: len(tg.bot_messages(chat)) for chat in (private, group)}
            caplog.clear()

            await redis_server.stop()
            sent = [f"during the outage {i}" for i in range(4)]
            for text in sent:
                tg.user_sends(private, ann, text)
                tg.user_sends(group, bea, f"@CharBot {text}")
            for chat in (private, group):
                await told(world, chat)
                await tg.wait_idle(chat, quiet=QUIET, timeout=10)
            # each chat was told once, and nothing else was said
            for chat in (private, group):
                assert len(notices(world, chat)) == 1
                assert len(tg.bot_messages(chat)) == before[chat.id] + 1
            assert notices(world, private)[0].text == f"⚠️ {STORE_DOWN_TEXT}"
            unreachable = store_lines(caplog, "state store unreachable")
            assert len(unreachable) == 1 and "127.0.0.1" in unreachable[0].getMessage()

            # Redis again, on the same port and data: the bridge answers by itself, the binding is still there
            await redis_server.start()
            tg.user_sends(private, ann, "are you back?")
            await tg.wait_for_bot_message(private, ADA.reply_to("are you back?"), timeout=15)
            tg.user_sends(group, bea, "@CharBot still bound?")
            await tg.wait_for_bot_message(group, REX.reply_to("still bound?"), timeout=15)
            await logged(world, lambda: bool(store_lines(caplog, "reachable again after")))
            for chat in (private, group):
                await tg.wait_idle(chat, quiet=QUIET, timeout=10)
                assert len(tg.bot_messages(chat)) == before[chat.id] + 2, "a message from the outage was answered"
            assert len(store_lines(caplog, "state store unreachable")) == 1
            assert len(store_lines(caplog, "state store reachable again after")) == 1
            assert [r.getMessage() for r in caplog.records if r.exc_info is not None] == []
        finally:
            await close_world(world)
