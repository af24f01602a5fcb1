"""The door while the store cannot be reached (its redis-server really stopped): a short notice instead of silence,
at most once a while per conversation, only for messages meant for the bot; and the window of those notices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import Core
from bot.keys import Notice
from bot.models import ChatRequest, Preset, ReplyTarget
from bot.plans import Say, Skip, Stream
from bot.store.redis import RedisStateStore
from bot.unavailable import STORE_DOWN_CODE, STORE_DOWN_TEXT, OutageNotices
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream
from tests.redis_process import RedisProcess, running_redis

NOTICE = Say(STORE_DOWN_TEXT, error=STORE_DOWN_CODE, retry_after=7.0)


def message(number: int, chat: str = "-100", *, dm: bool = False, mentions: bool = True, command: str | None = None
            ) -> ChatRequest:  # fmt: skip
    return ChatRequest(
        platform="telegram",
        conversation_id=f"telegram:{chat}",
        user_id="telegram:1",
        user_name="Ann",
        is_dm=dm,
        text="hello",
        message_id=f"telegram:{chat}:{number}",
        mentions_bot=mentions,
        command=command,
        target=ReplyTarget(platform="telegram", chat=chat),
    )


@pytest.fixture
async def down(tmp_path: Path) -> AsyncIterator[tuple[Core, RedisProcess]]:
    """A core on its own Redis, which has just been stopped."""
    async with running_redis(tmp_path / "redis") as server:
        settings = Settings(
            presets=[Preset(name="ada", character_id="ada")],
            bridge={"data_dir": tmp_path, "default_preset": "ada"},
            storage={"redis_url": server.url, "outage_notice_every": 600, "outage_retry_after": 7},
        )
        core = Core(settings, RedisStateStore(server.url), {"characterai": ScriptedUpstream()})
        try:
            await server.stop()
            yield core, server
        finally:
            await core.close()


async def test_each_conversation_is_told_once_and_every_told_skip_carries_the_notice(
    down: tuple[Core, RedisProcess],
) -> None:
    door = down[0].door
    assert await door.handle(message(1)) == NOTICE
    for number in (2, 3):
        assert await door.handle(message(number)) == Skip(
            "the store is unreachable; told this conversation already", notice=NOTICE
        )
    assert await door.handle(message(4, "77", dm=True)) == NOTICE  # another conversation
    assert await door.handle(message(5, "-200", mentions=False, command="status")) == NOTICE  # a command


async def test_messages_not_for_the_bot_are_skipped_without_using_up_the_notice(
    down: tuple[Core, RedisProcess],
) -> None:
    door = down[0].door
    assert await door.handle(message(1, mentions=False)) == Skip("the store is unreachable; not addressed")
    assert await door.handle(message(2)) == NOTICE


async def test_adapter_helpers_answer_quietly_and_the_door_recovers(down: tuple[Core, RedisProcess]) -> None:
    core, server = down
    door = core.door
    assert await door.first_time(Notice("discord", "no_webhook", "1"), 60) is False  # no notice while down
    assert await door.preset_names("") == []
    await server.start()
    assert isinstance(await door.handle(message(1)), Stream)
    assert await door.preset_names("a") == ["ada"]


def test_the_notice_comes_again_after_its_window_in_each_conversation() -> None:
    now = [0.0]
    notices = OutageNotices(every=30.0, retry_after=5.0, clock=lambda: now[0])
    assert notices.due("a") and not notices.due("a")
    now[0] = 20.0
    assert notices.due("b") and not notices.due("a")
    now[0] = 30.0
    assert notices.due("a") and not notices.due("b")  # a's window is over, b's is not
    now[0] = 50.0
    assert notices.due("b") and not notices.due("a")
    assert notices.reply.retry_after == 5.0 and notices.reply.message == STORE_DOWN_TEXT
