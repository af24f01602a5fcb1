"""The service adapts to what a backend declares it can do (``Capabilities``): on a backend that cannot
regenerate, has no greetings, no group rooms and keeps no history upstream, nothing of that is asked of it, and
users get a clear line instead. The same requests on a backend that declares them work (the controls)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import Core
from bot.models import ChatRequest, NpcCharacter, Preset, ReplyTarget
from bot.npc import NpcNotice
from bot.npc.turns import NO_ROOMS
from bot.plans import Say
from bot.ports import EVERYONE
from bot.store.sqlite import SqliteStateStore
from config.settings import BridgeSettings, Settings
from tests.core.scripted_upstream import PlainUpstream, ScriptedUpstream
from tests.door_support import cast_items, plan_events

GROUP = "telegram:-100"
OWNER = "telegram:1"
CAST = [NpcCharacter(character_id="ada", name="Ada"), NpcCharacter(character_id="rex", name="Rex")]
PRESETS = [
    Preset(name="ada", character_id="ada"),
    Preset(name="hall", character_id="ada", npcs=CAST, room=True, queue_notice_after=None),
    Preset(name="party", character_id="ada", npcs=CAST, queue_notice_after=None),
]
_numbers = iter(range(1, 1_000_000))


def request(text: str = "hi", command: str | None = None) -> ChatRequest:
    number = next(_numbers)
    return ChatRequest(
        platform="telegram",
        conversation_id=GROUP,
        user_id=OWNER,
        user_name="Ann",
        is_dm=False,
        text=text,
        message_id=f"{GROUP}:{number}",
        mentions_bot=True,
        command=command,
        target=ReplyTarget(platform="telegram", chat=GROUP.split(":")[1]),
    )


def open_core(tmp_path: Path, upstream: ScriptedUpstream) -> Core:
    """A core whose one backend is ``upstream``, with its own store (one per backend double)."""
    settings = Settings(presets=PRESETS, bridge=BridgeSettings(default_preset="ada", data_dir=tmp_path, owners=[OWNER]))
    store = SqliteStateStore(tmp_path / f"{type(upstream).__name__}.sqlite3")
    return Core(settings, store, {"characterai": upstream})


@pytest.fixture
async def plain(tmp_path: Path) -> AsyncIterator[tuple[Core, PlainUpstream]]:
    upstream = PlainUpstream()
    core = open_core(tmp_path, upstream)
    yield core, upstream
    await core.close()


async def events_of(core: Core, req: ChatRequest) -> list[object]:
    return [event async for event in plan_events(core.door, req)]


async def test_regenerate_is_refused_in_one_line_without_asking_the_backend(
    plain: tuple[Core, PlainUpstream], tmp_path: Path
) -> None:
    core, upstream = plain
    [answer] = await events_of(core, request("hello"))
    assert answer.kind == "final" and answer.text == PlainUpstream.answer("ada", "hello")  # type: ignore[attr-defined]

    [refused] = await events_of(core, request(command="regenerate"))
    assert refused.kind == "error" and refused.code == "unsupported"  # type: ignore[attr-defined]
    assert refused.message == "This character cannot regenerate a reply."  # type: ignore[attr-defined]
    await core.service.drain()
    assert upstream.misuses == []
    [chat] = upstream.chats.values()
    assert chat == ["hello", PlainUpstream.answer("ada", "hello")]  # nothing more happened upstream

    control = open_core(tmp_path, ScriptedUpstream())
    try:
        await events_of(control, request("hello"))
        *_, again = await events_of(control, request(command="regenerate"))
        assert again.kind == "final" and again.text == ScriptedUpstream.answer("ada", "again")  # type: ignore[attr-defined]
    finally:
        await control.close()


async def test_greetings_only_where_the_backend_has_them(plain: tuple[Core, PlainUpstream], tmp_path: Path) -> None:
    core, _ = plain
    start = await core.door.handle(request(command="start"))
    assert isinstance(start, Say) and start.text == "Ada is here."  # not the character's greeting text
    reset = await core.door.handle(request(command="reset"))
    assert isinstance(reset, Say) and reset.error is None and reset.greeting == "A new conversation has started."

    control = open_core(tmp_path, ScriptedUpstream())
    try:
        start = await control.door.handle(request(command="start"))
        assert isinstance(start, Say) and start.text == "Hello from ada"
        reset = await control.door.handle(request(command="reset"))
        assert isinstance(reset, Say) and reset.greeting == "Hello from ada"
    finally:
        await control.close()


async def test_no_history_is_read_from_a_backend_that_keeps_none(
    plain: tuple[Core, PlainUpstream], caplog: pytest.LogCaptureFixture
) -> None:
    core, upstream = plain
    await events_of(core, request("one"))
    caplog.set_level(logging.INFO, logger="charbridge.service")
    assert await core.service.history(GROUP, EVERYONE) == []
    assert upstream.misuses == []
    assert "the characterai backend keeps none upstream" in caplog.text


async def test_a_room_preset_on_a_backend_without_rooms_says_so_at_every_turn(
    plain: tuple[Core, PlainUpstream],
) -> None:
    core, upstream = plain
    clear = NO_ROOMS.format(backend="characterai", preset="hall")
    bound = await core.door.handle(request("use hall", command="preset"))  # the owner binds the room preset
    assert isinstance(bound, Say) and bound.text.splitlines()[-1] == clear  # not "try again": it never will work

    [notice] = [item async for item in cast_items(core.door, request("Ada, hello"))]
    assert isinstance(notice, NpcNotice) and notice.kind == "error" and notice.text == clear

    reset = await core.door.handle(request(command="reset"))
    assert isinstance(reset, Say) and reset.error == "unsupported" and reset.text == clear
    assert upstream.chats == {}  # nothing was tried upstream

    # the same cast with one chat each works on this backend
    assert isinstance(await core.door.handle(request("use party", command="preset")), Say)
    said = [item async for item in cast_items(core.door, request("Ada, hello"))]
    assert [type(item).__name__ for item in said] == ["NpcReply"]
