"""The NPC service on the real core wiring: the serial room worker, merging, queue notices, reply-to and
last-speaker memory, scenes and their loop guard, and the plain-stream fallback of ChatService.

Tests wait on events (a generation held at the double's gate, an arrival ticket released once its request is in
its room's line, the items a request has yielded so far), never on sleeps. Where the behaviour itself is a
duration (a queue notice after N s, a scene turn after N s), N is at least ``DEADLINE``, so only a stall that
long could change what a test sees.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.npc import NpcNotice, NpcReply, Speaker
from bot.npc.turns import NO_ROOMS, room_who
from bot.plans import Say
from bot.upstream.base import ErrorCode
from tests.core.scripted_upstream import ScriptedUpstream
from tests.door_support import cast_items, plan_events
from tests.npc.conftest import (
    CAST,
    GROUP,
    PATIENCE,
    Listener,
    Said,
    collect,
    message,
    npc_preset,
    open_world,
)
from tests.npc.doubles import CastUpstream

ADA, REX, ZORA = CAST
DEADLINE = 2.0  # the shortest real-time duration a test's outcome depends on


def said(speaker: str, character_id: str, text: str, scene: bool = False) -> Said:
    return Said(speaker, CastUpstream.answer(character_id, text), scene)


async def test_twenty_messages_from_five_users_run_one_at_a_time_in_arrival_order(make_world: Any) -> None:
    world = make_world(npc_preset(room=True), CastUpstream(pause=0.002))
    requests = [message(f"Ada, question {i}", user=i % 5) for i in range(20)]
    results = await asyncio.gather(*(world.ask(r) for r in requests))

    assert list(results) == [[said("Ada", "ada", f"User{i % 5}: Ada, question {i}")] for i in range(20)]
    [room] = world.upstream.rooms.values()
    humans = [text for author, text in room.turns if author == "human"]
    assert humans == [f"User{i % 5}: Ada, question {i}" for i in range(20)]
    authors = [author for author, _ in room.turns]
    assert authors == ["human", "ada"] * 20, "each reply finished before the next message went in"
    assert world.upstream.overlaps == 0
    assert len(world.upstream.rooms) == 1, "one room for the channel, created once"


async def test_one_on_one_npcs_share_the_channel_worker(make_world: Any) -> None:
    world = make_world(npc_preset(), CastUpstream(pause=0.002))
    requests = [message(name + f", hello {i}", user=i) for i, name in enumerate(["Ada", "Rex", "Madame Zora"] * 3)]
    results = await asyncio.gather(*(world.ask(r) for r in requests))
    assert [[s.speaker for s in r if isinstance(s, Said)] for r in results] == [
        [n] for n in ["Ada", "Rex", "Madame Zora"] * 3
    ]
    assert world.upstream.overlaps == 0
    humans = [text for _, author, text in world.upstream.sent if author == "human"]
    assert humans == [r.user_name + ": " + r.text for r in requests]
    chats = await world.core.store.list_chat_ids(GROUP)
    assert sorted(chats) == ["npc:ada", "npc:rex", "npc:zora"]


async def test_several_names_are_answered_in_turn_in_one_room_turn(make_world: Any) -> None:
    world = make_world(npc_preset(room=True))
    result = await world.ask(message("Rex and Ada, which way?"))
    line = "User1: Rex and Ada, which way?"
    assert result == [said("Rex", "rex", line), said("Ada", "ada", line)]
    [room] = world.upstream.rooms.values()
    assert [author for author, _ in room.turns] == ["human", "rex", "ada"]


async def test_messages_waiting_behind_a_reply_merge_into_one_turn(make_world: Any) -> None:
    upstream = CastUpstream()
    upstream.gate = asyncio.Event()
    world = make_world(npc_preset(room=True, merge_queued=True), upstream)
    first = asyncio.create_task(world.ask(message("Ada, first", user=1)))
    await asyncio.wait_for(upstream.at_gate.wait(), PATIENCE)  # the first turn is generating (held at the gate)
    later = [message(f"Ada, more {i}", user=i) for i in (2, 3, 4)] + [message("Rex, separately", user=5)]
    tickets = [world.arrive(request) for request in later]  # as an adapter takes them, in arrival order
    tasks = [asyncio.create_task(collect(world.items(r, t))) for r, t in zip(later, tickets, strict=True)]
    await asyncio.wait_for(tickets[-1].done, PATIENCE)  # done once every one of them is in the room's line
    upstream.gate.set()
    results = [await task for task in (first, *tasks)]

    merged = "User2: Ada, more 2\nUser3: Ada, more 3\nUser4: Ada, more 4"
    assert results[0] == [said("Ada", "ada", "User1: Ada, first")]
    assert results[1] == [said("Ada", "ada", merged)]
    assert results[2] == results[3] == []  # said in the turn of the message before them
    assert results[4] == [said("Rex", "rex", "User5: Rex, separately")]  # another target: its own turn
    [room] = upstream.rooms.values()
    assert [text for author, text in room.turns if author == "human"] == [
        "User1: Ada, first",
        merged,
        "User5: Rex, separately",
    ]


async def test_without_merging_every_waiting_message_is_its_own_turn(make_world: Any) -> None:
    world = make_world(npc_preset(room=True))
    results = await asyncio.gather(*(world.ask(message(f"Ada, {i}")) for i in range(3)))
    assert [len(r) for r in results] == [1, 1, 1]
    [room] = world.upstream.rooms.values()
    assert len([a for a, _ in room.turns if a == "human"]) == 3


async def test_a_long_wait_is_announced_once_with_the_place_in_line(make_world: Any) -> None:
    upstream = CastUpstream()
    upstream.gate = asyncio.Event()
    world = make_world(npc_preset(queue_notice_after=DEADLINE), upstream)
    listeners = [Listener(world.items(message(f"Ada, {i}"))) for i in range(3)]
    await listeners[1].until(1)  # the gate holds the first turn until both others have been told they wait
    await listeners[2].until(1)
    upstream.gate.set()
    first, second, third = [await listener.result() for listener in listeners]
    assert [type(item) for item in first] == [Said]  # it never waited (the gate held its reply, not its turn)
    assert second[0] == NpcNotice(kind="queued", text="⏳ Your message is queued; 1 message ahead of it.")
    assert third[0] == NpcNotice(kind="queued", text="⏳ Your message is queued; 2 messages ahead of it.")
    assert [type(item) for item in second[1:] + third[1:]] == [Said, Said]


async def test_a_reply_to_an_npc_message_reaches_it_and_survives_a_restart(tmp_path: Path) -> None:
    world = open_world(tmp_path, npc_preset())
    [reply] = await world.ask(message("Rex, ahoy"))
    assert isinstance(reply, Said) and reply.speaker == "Rex"
    await world.npc.remember(message("x"), Speaker(name="Rex", character_id="rex"), [f"{GROUP}:777"])
    await world.core.close()

    world = open_world(tmp_path, npc_preset(), world.upstream)
    try:
        answer = await world.ask(message("what say you?", reply_to=f"{GROUP}:777"))
        assert answer == [said("Rex", "rex", "User1: what say you?")]
        # the last speaker answers a mention that names nobody, after the restart too
        assert await world.ask(message("and then?", mentions=True)) == [said("Rex", "rex", "User1: and then?")]
        # the cast's own messages coming back in are never answered (the loop guard)
        echo = message("Ada and Rex agree", mentions=True).model_copy(update={"message_id": f"{GROUP}:777"})
        assert await world.ask(echo) == []
    finally:
        await world.core.close()


async def test_the_room_may_choose_the_speaker(make_world: Any) -> None:
    world = make_world(npc_preset(room=True, fallback="room"))
    first = await world.ask(message("who speaks?", mentions=True))
    second = await world.ask(message("and now?", mentions=True))
    assert first == [said("Ada", "ada", "User1: who speaks?")]  # the double's room goes round its cast
    assert second == [said("Rex", "rex", "User1: and now?")]
    assert await world.ask(message("no mention, no name")) == []


async def test_scenes_stop_after_the_configured_number_of_turns(make_world: Any) -> None:
    world = make_world(npc_preset(scenes=True, scene_delay=0.01, scene_max_turns=3))
    result = await world.ask(message("Ada, start a tale"))
    first = said("Ada", "ada", "User1: Ada, start a tale")
    assert isinstance(result[0], Said) and result[0] == first
    speakers = [(s.speaker, s.scene) for s in result if isinstance(s, Said)]
    assert speakers == [("Ada", False), ("Rex", True), ("Madame Zora", True), ("Ada", True)]
    # each answers the one before it
    assert result[1] == said("Rex", "rex", f"Ada: {first.text}", scene=True)
    assert world.upstream.overlaps == 0


async def test_scenes_in_a_room_generate_without_new_human_turns(make_world: Any) -> None:
    world = make_world(npc_preset(room=True, scenes=True, scene_delay=0, scene_max_turns=2))
    result = await world.ask(message("Rex, begin"))
    assert [(s.speaker, s.scene) for s in result if isinstance(s, Said)] == [
        ("Rex", False),
        ("Madame Zora", True),
        ("Ada", True),
    ]
    [room] = world.upstream.rooms.values()
    assert [author for author, _ in room.turns] == ["human", "rex", "zora", "ada"]


async def test_without_scenes_characters_never_answer_each_other(make_world: Any) -> None:
    world = make_world(npc_preset(scenes=False, scene_delay=0))
    assert await world.ask(message("Ada, hello")) == [said("Ada", "ada", "User1: Ada, hello")]
    await world.npc.drain()  # every turn the worker was given is over
    assert len(world.upstream.sent) == 1


async def test_a_user_message_ends_a_running_scene(make_world: Any) -> None:
    world = make_world(npc_preset(scenes=True, scene_delay=DEADLINE, scene_max_turns=5))
    scene = Listener(world.items(message("Ada, begin")))
    assert await scene.until(1) == [said("Ada", "ada", "User1: Ada, begin")]  # the scene now waits its delay
    interrupt = Listener(world.items(message("Rex, stop that")))
    assert await interrupt.until(1) == [said("Rex", "rex", "User1: Rex, stop that")]
    assert await scene.result() == [said("Ada", "ada", "User1: Ada, begin")]  # no scene turn after Ada's
    await interrupt.stop()  # (its own scene would follow)


async def test_npc_command_problems_and_presets_without_a_cast(make_world: Any, tmp_path: Path) -> None:
    world = make_world(npc_preset())
    [problem] = await world.ask(message("Bob hi", command="npc"))
    assert isinstance(problem, NpcNotice) and problem.kind == "usage" and "Ada, Rex, Madame Zora" in problem.text
    assert await world.ask(message("Madame Zora rain?", command="npc")) == [said("Madame Zora", "zora", "User1: rain?")]


async def test_chat_service_gives_unaware_adapters_one_plain_stream(make_world: Any) -> None:
    world = make_world(npc_preset(room=True))
    events = [e async for e in plan_events(world.core.door, message("Ada and Rex, hello"))]
    final = events[-1]
    line = "User1: Ada and Rex, hello"
    expected = f"Ada: {CastUpstream.answer('ada', line)}\n\nRex: {CastUpstream.answer('rex', line)}"
    assert final.kind == "final" and final.text == expected
    assert all(expected.startswith(e.text) for e in events if e.kind == "snapshot")
    nobody = [e async for e in plan_events(world.core.door, message("chatter"))]
    assert [e.kind for e in nobody] == ["error"]
    regenerated = [e async for e in plan_events(world.core.door, message("again", command="regenerate"))]
    assert regenerated[0].kind == "error"


async def test_reset_forgets_the_room_and_starts_a_new_one(make_world: Any) -> None:
    world = make_world(npc_preset(room=True))
    await world.ask(message("Ada, hi"))
    before = await world.core.store.list_chat_ids(GROUP)
    reset = await world.core.door.handle(message("/reset", command="reset"))
    assert isinstance(reset, Say) and reset.error is None and "Ada, Rex, Madame Zora" in (reset.greeting or "")
    after = await world.core.store.list_chat_ids(GROUP)
    who = room_who(CAST)
    assert before[who] != after[who] and len(world.upstream.rooms) == 2
    await world.ask(message("Ada, again"))
    assert world.upstream.rooms[after[who]].turns[0] == ("human", "User1: Ada, again")


async def test_an_upstream_failure_ends_that_reply_with_an_error_and_the_next_one_works(make_world: Any) -> None:
    world = make_world(npc_preset(room=True))
    world.upstream.fail_next = ErrorCode.RATE_LIMITED
    assert await world.ask(message("Ada and Rex, hi")) == [
        Said("Ada", "error:error"),
        said("Rex", "rex", "User1: Ada and Rex, hi"),
    ]
    assert await world.ask(message("Ada, again")) == [said("Ada", "ada", "User1: Ada, again")]


async def test_a_preset_without_a_room_backend_says_so_before_anyone_speaks(tmp_path: Path) -> None:
    world = open_world(tmp_path, npc_preset(room=True), upstream=ScriptedUpstream())  # type: ignore[arg-type]
    try:
        [notice] = await world.ask(message("Ada, hi"))
        assert isinstance(notice, NpcNotice) and notice.kind == "error"
        assert notice.text == NO_ROOMS.format(backend="characterai", preset="tavern")  # what to do about it
    finally:
        await world.core.close()


async def test_speakers_wear_their_own_avatar_else_the_characters_and_room_choices_map_to_the_cast(
    make_world: Any,
) -> None:
    world = make_world(npc_preset(room=True, fallback="room"))
    seen = []
    for text in ("one", "two", "three"):  # the double's room goes round: ada, rex, zora ("Zora" upstream)
        async for item in cast_items(world.core.door, message(text, mentions=True)):
            assert isinstance(item, NpcReply)
            _ = [event async for event in item.events]
            seen.append(item.speaker)
    assert seen == [
        Speaker(name="Ada", avatar_url="https://img.example/ada.png", character_id="ada"),
        Speaker(name="Rex", avatar_url="https://img.example/rex-own.png", character_id="rex"),
        Speaker(name="Madame Zora", avatar_url="https://img.example/zora-own.png", character_id="zora"),
    ]
    assert await world.npc.memory.last_speaker(GROUP) == "zora"


async def test_arrival_tickets_decide_the_order_not_who_is_looked_up_first(make_world: Any) -> None:
    world = make_world(npc_preset(room=True))
    first, second = message("Ada, I came first"), message("Ada, I came second")
    tickets = [world.core.door.arrive(first.conversation_id), world.core.door.arrive(second.conversation_id)]
    late = asyncio.create_task(collect(cast_items(world.core.door, second, tickets[1])))  # handled first...
    # ...but it waits for the message that arrived before it. (Nothing happens while it waits, so this watches
    # for DEADLINE: were it not waiting, it would be in the room long before; a slow machine cannot fail this.)
    await asyncio.wait({late}, timeout=DEADLINE)
    assert world.upstream.sent == [] and not late.done()
    early = asyncio.create_task(collect(cast_items(world.core.door, first, tickets[0])))
    await asyncio.gather(late, early)
    assert [text for _, _, text in world.upstream.sent if text.startswith("User1")] == [
        "User1: Ada, I came first",
        "User1: Ada, I came second",
    ]
