"""The core's one door: the same steps for every message, the route resolved once, the plan it hands over."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from bot.core import Core
from bot.models import Binding, ChatRequest, Preset, ReplyTarget
from bot.plans import Say, Skip, Stream
from bot.ports import StateStore
from bot.store.sqlite import SqliteStateStore
from config.settings import Settings
from tests.core.scripted_upstream import ScriptedUpstream


class CountingStore:
    """The SQLite store, counting every call by operation name (a spy on the store port)."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if not callable(found):
            return found

        def counted(*args: Any, **kwargs: Any) -> Awaitable[Any]:
            self.calls[name] += 1
            return cast(Callable[..., Awaitable[Any]], found)(*args, **kwargs)

        return counted


def message(
    number: int, *, mentions: bool = True, thread: str | None = None, command: str | None = None
) -> ChatRequest:
    return ChatRequest(
        platform="telegram",
        conversation_id="telegram:-100",
        thread_id=thread,
        user_id="telegram:1",
        user_name="Ann",
        is_dm=False,
        text="hello",
        message_id=f"telegram:-100:{number}",
        mentions_bot=mentions,
        command=command,
        target=ReplyTarget(platform="telegram", chat="-100", thread=thread),
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Core, CountingStore]]:
    store = CountingStore(SqliteStateStore(tmp_path / "s.sqlite3"))
    settings = Settings(presets=[Preset(name="ada", character_id="ada")], bridge={"data_dir": tmp_path})
    core = Core(settings, cast(StateStore, store), {"characterai": ScriptedUpstream()})
    await core.store.put_binding(Binding(conversation="telegram:-100", preset="ada", bound_by="telegram:9"))
    yield core, store
    await core.close()


async def test_one_message_resolves_its_route_once(world: tuple[Core, CountingStore]) -> None:
    core, store = world
    store.calls.clear()
    plan = await core.door.handle(message(1))
    assert isinstance(plan, Stream)
    reads_before_the_reply = dict(store.calls)
    events = [event async for event in plan.events]
    assert events[-1].kind == "final"
    # one dedupe marker, one binding look-up (no thread), one stored-preset look-up: the route, once
    assert reads_before_the_reply == {"mark_once": 1, "get_binding": 1, "get_preset": 1}
    await core.service.drain()
    # then the reply itself: its upstream chat (made now), and the exchange recorded
    assert store.calls["get_binding"] == 1 and store.calls["get_preset"] == 1


async def test_in_a_thread_the_thread_and_its_channel_are_each_read_once(world: tuple[Core, CountingStore]) -> None:
    core, store = world
    store.calls.clear()
    plan = await core.door.handle(message(1, thread="7"))
    assert isinstance(plan, Stream)
    assert store.calls["get_binding"] == 2 and store.calls["get_preset"] == 1
    assert [event async for event in plan.events][-1].kind == "final"


async def test_a_redelivery_stops_at_the_door_before_any_routing(world: tuple[Core, CountingStore]) -> None:
    core, store = world
    first = await core.door.handle(message(1))
    assert isinstance(first, Stream)
    _ = [event async for event in first.events]
    store.calls.clear()
    again = await core.door.handle(message(1))
    assert again == Skip("redelivered")
    assert dict(store.calls) == {"mark_once": 1}


async def test_an_unaddressed_group_message_is_skipped_and_costs_no_upstream_call(
    world: tuple[Core, CountingStore],
) -> None:
    core, _ = world
    upstream = core.upstreams["characterai"]
    assert isinstance(upstream, ScriptedUpstream)
    assert await core.door.handle(message(1, mentions=False)) == Skip("not addressed")
    assert upstream.chats == {}


async def test_commands_are_answered_by_the_core_the_same_way_everywhere(world: tuple[Core, CountingStore]) -> None:
    core, _ = world
    status = await core.door.handle(message(1, command="status"))
    assert isinstance(status, Say) and status.text.startswith("Character: ada")
    usage = await core.door.handle(message(2, command="chat").model_copy(update={"text": ""}))
    assert isinstance(usage, Say) and usage.error == "invalid" and "/chat" in usage.text
    unknown_in_group = await core.door.handle(message(3, command="nonsense"))
    assert unknown_in_group == Skip("unknown command")
    unknown_in_dm = await core.door.handle(message(4, command="nonsense").model_copy(update={"is_dm": True}))
    assert isinstance(unknown_in_dm, Say) and "/help" in unknown_in_dm.text
