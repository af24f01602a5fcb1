"""Routing (thread, channel, default; per-user scope) and the chat service on top of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import Core
from bot.models import Binding, ChatRequest, Preset, ReplyTarget
from bot.plans import Say, Skip, Stream
from bot.ports import EVERYONE
from bot.relay import PacingPolicy
from bot.store.sqlite import SqliteStateStore
from bot.upstream.base import ErrorCode
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream
from tests.door_support import plan_events


def request(
    text: str = "hi",
    conversation: str = "telegram:-100",
    user: str = "telegram:1",
    thread: str | None = None,
    dm: bool = False,
    message: str = "1",
    mentions: bool = True,
    command: str | None = None,
) -> ChatRequest:
    return ChatRequest(
        platform="telegram",
        conversation_id=conversation,
        thread_id=thread,
        user_id=user,
        user_name="Ann",
        is_dm=dm,
        text=text,
        message_id=f"{conversation}:{message}",
        mentions_bot=mentions,
        command=command,
        target=ReplyTarget(platform="telegram", chat=conversation.split(":")[1], thread=thread),
    )


PRESETS = [
    Preset(name="ada", character_id="ada"),
    Preset(name="kira", character_id="kira", scope="user"),
    Preset(name="echo", character_id="echo", trigger="all"),
]


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    settings = Settings(presets=PRESETS, bridge={"default_preset": "ada", "data_dir": tmp_path})
    built = Core(settings, SqliteStateStore(tmp_path / "s.sqlite3"), {"characterai": ScriptedUpstream()})
    yield built
    await built.close()


async def collect(events: AsyncIterator[object]) -> list[object]:
    return [event async for event in events]


async def test_default_preset_when_unbound(core: Core) -> None:
    route = await core.router.resolve(request())
    assert route is not None
    assert (route.preset.name, route.bound, route.who) == ("ada", False, EVERYONE)


async def test_thread_binding_wins_then_parent_channel(core: Core) -> None:
    await core.store.put_binding(Binding(conversation="telegram:-100", preset="echo", bound_by="telegram:1"))
    in_topic = await core.router.resolve(request(thread="7"))
    assert in_topic is not None and (in_topic.preset.name, in_topic.conversation) == ("echo", "telegram:-100")

    await core.store.put_binding(Binding(conversation="telegram:-100/7", preset="kira", bound_by="telegram:1"))
    in_topic = await core.router.resolve(request(thread="7"))
    assert in_topic is not None and (in_topic.preset.name, in_topic.conversation) == ("kira", "telegram:-100/7")


async def test_per_user_scope_gives_each_user_an_upstream_chat(core: Core) -> None:
    await core.store.put_binding(Binding(conversation="telegram:-100", preset="kira", bound_by="telegram:1"))
    await collect(plan_events(core.door, request(user="telegram:1", message="1")))
    await collect(plan_events(core.door, request(user="telegram:2", message="2")))
    chats = await core.store.list_chat_ids("telegram:-100")
    assert set(chats) == {"telegram:1", "telegram:2"}
    assert len(set(chats.values())) == 2


async def test_channel_scope_shares_one_upstream_chat(core: Core) -> None:
    await collect(plan_events(core.door, request(user="telegram:1", message="1")))
    await collect(plan_events(core.door, request(user="telegram:2", message="2")))
    assert list((await core.store.list_chat_ids("telegram:-100")).keys()) == [EVERYONE]


async def test_no_preset_anywhere_gives_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(presets=PRESETS, bridge={"data_dir": tmp_path})
    core = Core(settings, SqliteStateStore(tmp_path / "s.sqlite3"), {"characterai": ScriptedUpstream()})
    events = await collect(plan_events(core.door, request()))
    assert [e.kind for e in events] == ["error"]  # type: ignore[attr-defined]
    assert "/preset use" in events[0].message  # type: ignore[attr-defined]
    await core.close()


async def test_reply_streams_growing_snapshots_then_the_exact_final(core: Core) -> None:
    events = await collect(plan_events(core.door, request(text="hello there")))
    expected = ScriptedUpstream.answer("ada", "hello there")
    texts = [e.text for e in events]  # type: ignore[attr-defined]
    assert events[-1].kind == "final" and texts[-1] == expected  # type: ignore[attr-defined]
    assert all(expected.startswith(t) for t in texts)
    assert [len(t) for t in texts] == sorted(len(t) for t in texts)


async def test_a_consumer_that_leaves_early_does_not_break_the_conversation(core: Core) -> None:
    upstream = core.upstreams["characterai"]
    assert isinstance(upstream, ScriptedUpstream)
    stream = plan_events(core.door, request(text="first", message="1"))
    first = await anext(stream)
    assert first.kind == "snapshot"
    await stream.aclose()  # e.g. an HTTP client disconnected mid-stream
    events = await collect(plan_events(core.door, request(text="second", message="2")))
    assert events[-1].text == ScriptedUpstream.answer("ada", "second")  # type: ignore[union-attr]
    chat_id = await core.store.get_chat_id("telegram:-100", EVERYONE)
    assert chat_id is not None
    # the abandoned reply still completed upstream, before the second turn
    assert upstream.chats[chat_id] == [
        "first", ScriptedUpstream.answer("ada", "first"), "second", ScriptedUpstream.answer("ada", "second")
    ]


async def test_upstream_errors_become_user_facing_errors(core: Core) -> None:
    upstream = core.upstreams["characterai"]
    assert isinstance(upstream, ScriptedUpstream)
    upstream.fail_next = ErrorCode.RATE_LIMITED
    events = await collect(plan_events(core.door, request()))
    assert events[-1].kind == "error" and events[-1].code == "rate_limited"  # type: ignore[attr-defined]
    assert "scripted" not in events[-1].message  # type: ignore[attr-defined]


async def test_reset_starts_a_new_upstream_chat_and_returns_the_greeting(core: Core) -> None:
    await collect(plan_events(core.door, request()))
    before = await core.store.get_chat_id("telegram:-100", EVERYONE)
    answer = await core.door.handle(request(message="2", command="reset"))
    after = await core.store.get_chat_id("telegram:-100", EVERYONE)
    assert isinstance(answer, Say) and answer.greeting == "Hello from ada" and answer.error is None
    assert before is not None and after is not None and before != after
    assert await core.store.get_conversation("telegram:-100", EVERYONE) is None


async def test_each_exchange_is_recorded(core: Core) -> None:
    await collect(plan_events(core.door, request(text="one", message="1")))
    await collect(plan_events(core.door, request(text="two", message="2", user="telegram:2")))
    record = await core.store.get_conversation("telegram:-100", EVERYONE)
    assert record is not None
    assert (record.message_count, record.user_id) == (4, "telegram:2")
    assert record.last_message == ScriptedUpstream.answer("ada", "two")


async def test_duplicate_delivery_is_recognised(core: Core) -> None:
    assert await core.service.first_delivery(request(message="9")) is True
    assert await core.service.first_delivery(request(message="9")) is False


async def test_the_door_answers_by_the_trigger_mode(core: Core) -> None:
    assert isinstance(await core.door.handle(request(mentions=False, message="1")), Skip)
    assert isinstance(await core.door.handle(request(mentions=False, dm=True, message="2")), Stream)
    await core.store.put_binding(Binding(conversation="telegram:-100", preset="echo", bound_by="telegram:1"))
    assert isinstance(await core.door.handle(request(mentions=False, message="3")), Stream)
    await core.service.drain()


async def test_history_comes_from_the_upstream_chat(core: Core) -> None:
    assert await core.service.history("telegram:-100", EVERYONE) == []
    await collect(plan_events(core.door, request(text="one", message="1")))
    turns = await core.service.history("telegram:-100", EVERYONE)
    assert [t.text for t in turns] == ["one", ScriptedUpstream.answer("ada", "one")]


async def test_a_presets_pacing_overrides_apply_and_invalid_ones_are_ignored(core: Core) -> None:
    base = PacingPolicy.telegram_group()
    status = request(message="1", command="status")
    assert (await core.door.handle(status)).policy(base) == base  # the default preset has no overrides
    await core.store.put_preset(Preset(name="slow", character_id="ada", pacing={"min_interval": 9.0}))
    await core.store.put_binding(Binding(conversation="telegram:-100", preset="slow", bound_by="telegram:1"))
    assert (await core.door.handle(status.model_copy(update={"message_id": "2"}))).policy(base).min_interval == 9.0
    await core.store.put_preset(Preset(name="slow", character_id="ada", pacing={"no_such_field": 1.0}))
    assert (await core.door.handle(status.model_copy(update={"message_id": "3"}))).policy(base) == base


async def test_forgetting_a_conversation_waits_for_the_reply_running_on_it(tmp_path: Path) -> None:
    """An admin rebinding mid-reply: the running reply finishes first, then the chat and its record go,
    so nothing of the old chat comes back afterwards."""
    settings = Settings(presets=PRESETS, bridge={"default_preset": "ada", "data_dir": tmp_path})
    upstream = ScriptedUpstream(chunk=3, pause=0.02)
    core = Core(settings, SqliteStateStore(tmp_path / "s.sqlite3"), {"characterai": upstream})
    try:
        stream = plan_events(core.door, request(text="a long story please"))
        assert (await anext(stream)).kind == "snapshot"  # the reply is running upstream now
        await core.service.forget("telegram:-100")
        rest = [event async for event in stream]
        assert rest[-1].kind == "final"
        await core.service.drain()
        assert await core.store.get_conversation("telegram:-100", EVERYONE) is None
        assert await core.store.list_chat_ids("telegram:-100") == {}
    finally:
        await core.close()
