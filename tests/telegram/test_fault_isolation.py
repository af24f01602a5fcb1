"""Faults stay where they happen, end to end on Telegram: five users talk at once in five private chats (the real
python-telegram-bot in our adapter, the fake Bot API, our Character.AI client against the fake Character.AI), and
every fault the fake can inject is aimed at one user's message. That user's reply fails with a clear message (or
recovers); the four others get exactly their replies (collateral failures: none), and each of their messages
reached Character.AI once. Both with one DM socket (the four wait in line behind the faulted request) and with
the default pool. The same for five groups, each talking in its own Character.AI group room."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backends.characterai import CharacterAIBackend
from bot.models import Binding, NpcCharacter, Preset, ReplyError
from bot.npc.turns import room_who
from bot.relay.inbox import error_notice
from bot.upstream.base import USER_MESSAGES, ErrorCode
from fakes.telegram import FakeTelegram
from fakes.telegram.world import Chat, StoredMessage
from tests.fault_cases import (
    CASES,
    POOLS,
    UPSTREAM,
    WAIT,
    FaultCase,
    dm_connections_lost,
    hold_in_flight,
    lined_up,
    sent_upstream,
    until,
    upstream_chat_of,
)
from tests.telegram.conftest import CHARACTERS, QUIET, close_world, open_world

ADA = CHARACTERS[0]  # the default preset's character
USERS = 5


def ended(tg: FakeTelegram, chat: Chat, after: int, final: Callable[[str], bool]) -> Callable[[], StoredMessage | None]:
    """The chat's first bot message after the first ``after`` whose text ``final`` accepts."""
    return lambda: next((m for m in tg.bot_messages(chat)[after:] if final(m.text)), None)


@pytest.mark.parametrize("pool", list(POOLS))
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_a_fault_fails_only_the_reply_it_belongs_to(tmp_path: Path, case: FaultCase, pool: str) -> None:
    overrides: dict[str, Any] = {**UPSTREAM, **POOLS[pool]}
    world = await open_world(tmp_path, characterai=overrides)
    try:
        tg, cai = world.telegram, world.cai
        cai.configure(generation_overlap="reject")  # a second generation on one socket would be refused
        people = [tg.add_user(f"Reader{n}") for n in range(USERS)]
        chats = [tg.private_chat(person) for person in people]

        # everybody is already talking with the character
        hellos = [f"hello from Reader{n}" for n in range(USERS)]
        for chat, person, text in zip(chats, people, hellos, strict=True):
            tg.user_sends(chat, person, text)
        for chat, text in zip(chats, hellos, strict=True):
            await tg.wait_for_bot_message(chat, ADA.reply_to(text), timeout=WAIT)
        before = [len(tg.bot_messages(chat)) for chat in chats]

        # the fault hits Reader0's next message; the four others write while it is in flight
        case.inject(cai, upstream_chat_of(cai, hellos[0]))
        asks = [f"which shelf, Reader{n}?" for n in range(USERS)]
        tg.user_sends(chats[0], people[0], asks[0])
        await until(lambda: asks[0] in sent_upstream(cai))
        for n in range(1, USERS):
            tg.user_sends(chats[n], people[n], asks[n])
        backend = world.core.upstreams["characterai"]
        assert isinstance(backend, CharacterAIBackend)
        await until(lambda: lined_up(backend, cai, asks[1:]))
        if case.held:
            cai.release_stalls()

        full = ADA.reply_to(asks[0])
        expected = case.expected_reply(full)
        if case.outcome is None:
            assert expected is not None
            await tg.wait_for(ended(tg, chats[0], before[0], lambda text: text == expected), timeout=WAIT)
        else:
            notice = error_notice(ReplyError(code=case.outcome.value, message=USER_MESSAGES[case.outcome]))
            await tg.wait_for(ended(tg, chats[0], before[0], lambda text: text.endswith(notice)), timeout=WAIT)
        for n in range(1, USERS):
            await tg.wait_for_bot_message(chats[n], ADA.reply_to(asks[n]), timeout=WAIT)
        for chat in chats:
            await tg.wait_idle(chat, quiet=QUIET, timeout=WAIT)

        answers = [[m.text for m in tg.bot_messages(chat)[before[n] :]] for n, chat in enumerate(chats)]
        collateral = [n for n in range(1, USERS) if answers[n] != [ADA.reply_to(asks[n])]]
        assert collateral == [], answers
        assert len(answers[0]) == 1, answers[0]  # the faulted user got one message: the reply, or the failure
        if expected is not None:
            assert answers[0] == [expected]
        sent = sent_upstream(cai)
        assert [sent.count(text) for text in asks] == [1] * USERS, sent  # each reached Character.AI once
        assert cai.counters["dm_generation_overlaps"] == 0, cai.dm_sockets()
        lost = 1 if case.breaks_connection else 0  # the faulted request's own connection, and no other
        await until(lambda: dm_connections_lost(cai) >= lost)
        assert dm_connections_lost(cai) == lost, cai.dm_sockets()
    finally:
        await close_world(world)


# ----- group rooms: five Telegram groups, each with its own Character.AI room (an NPC preset with room=True) -----

CAST = [NpcCharacter(character_id=c.id, name=c.name) for c in CHARACTERS]
HALL = Preset(name="hall", character_id=ADA.id, npcs=CAST, room=True, queue_notice_after=None)
ROOM_CASES = [case for case in CASES if case.id in (
    "drop-recovered", "drop-cut", "stall-mid-reply", "neo-error-500", "rate-limit", "input-filter", "safety-truncate",
)]  # fmt: skip


@pytest.mark.parametrize("case", ROOM_CASES, ids=[case.id for case in ROOM_CASES])
async def test_a_fault_in_one_group_room_fails_no_other_group(tmp_path: Path, case: FaultCase) -> None:
    # names are addressing: the bot must see every group message, so privacy mode is off
    world = await open_world(tmp_path, default_preset=None, characterai=UPSTREAM, presets=[HALL], privacy=False)
    try:
        tg, cai = world.telegram, world.cai
        people = [tg.add_user(f"Member{n}") for n in range(USERS)]
        groups = [tg.add_group(f"Hall {n}", members=[person], bots=["CharBot"], supergroup=True)
                  for n, person in enumerate(people)]  # fmt: skip
        for group in groups:
            await world.core.store.put_binding(
                Binding(conversation=f"telegram:{group.id}", preset=HALL.name, bound_by="telegram:1")
            )

        def said(n: int, text: str) -> str:
            return f"{ADA.name}: {ADA.reply_to(f'Member{n}: {text}')}"

        hellos = [f"Ada, hello from hall {n}" for n in range(USERS)]  # every group has its room already
        for group, person, text in zip(groups, people, hellos, strict=True):
            tg.user_sends(group, person, text)
        for n, group in enumerate(groups):
            await tg.wait_for_bot_message(group, said(n, hellos[n]), timeout=WAIT)
        before = [len(tg.bot_messages(group)) for group in groups]
        rooms = [await world.core.store.get_chat_id(f"telegram:{group.id}", room_who(CAST)) for group in groups]
        asks = [f"Ada, which shelf in hall {n}?" for n in range(USERS)]
        reply = case.expected_reply(ADA.reply_to(f"Member0: {asks[0]}"))

        def faulted_outcome() -> Callable[[], StoredMessage | None]:
            if case.outcome is None:  # the reply, whole or as far as the service let it come
                return ended(tg, groups[0], before[0], lambda text: text == f"{ADA.name}: {reply}")
            # under the speaker's name when the reply had started, else as a notice of its own
            failure = USER_MESSAGES[case.outcome]
            return ended(tg, groups[0], before[0], lambda text: text.endswith(failure))

        def generations(n: int) -> int:
            return sum(1 for m in cai.received("room", "generate_turn") if rooms[n] in str(m.frame))

        warm = [generations(n) for n in range(USERS)]

        def generating(n: int) -> bool:
            return generations(n) > warm[n]

        if case.outcome is ErrorCode.TIMEOUT:  # hall 0 stalls for a whole timeout: the four others talk meanwhile
            case.inject(cai, str(rooms[0]), channel="room")
            tg.user_sends(groups[0], people[0], asks[0])
            await until(lambda: generating(0))
            for n in range(1, USERS):
                tg.user_sends(groups[n], people[n], asks[n])
            for n in range(1, USERS):
                await tg.wait_for_bot_message(groups[n], said(n, asks[n]), timeout=WAIT)
            await tg.wait_for(faulted_outcome(), timeout=WAIT)
        else:  # the four other halls' turns are in flight (held by the service) for hall 0's whole course
            for n in range(1, USERS):
                hold_in_flight(cai, str(rooms[n]))
                tg.user_sends(groups[n], people[n], asks[n])
            await until(lambda: all(generating(n) for n in range(1, USERS)))
            case.inject(cai, str(rooms[0]), channel="room", held=False)
            tg.user_sends(groups[0], people[0], asks[0])
            await tg.wait_for(faulted_outcome(), timeout=WAIT)
            assert all(len(tg.bot_messages(group)) == before[n] for n, group in enumerate(groups) if n)
            cai.release_stalls()
            for n in range(1, USERS):
                await tg.wait_for_bot_message(groups[n], said(n, asks[n]), timeout=WAIT)
        for group in groups:
            await tg.wait_idle(group, quiet=QUIET, timeout=WAIT)

        answers = [[m.text for m in tg.bot_messages(group)[before[n] :]] for n, group in enumerate(groups)]
        collateral = [n for n in range(1, USERS) if answers[n] != [said(n, asks[n])]]
        assert collateral == [], answers
        assert len(answers[0]) == 1, answers[0]
        for n in range(USERS):
            assert sum(1 for m in cai.received("room", "create_turn") if asks[n] in str(m.frame)) == 1
        assert cai.room_violations == 0
    finally:
        await close_world(world)
