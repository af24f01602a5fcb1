"""Characters as NPCs in a Telegram group, end to end: the real python-telegram-bot in our adapter, the fake
Bot API (flood control on), our Character.AI client against the fake Character.AI (rooms included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.models import Binding, NpcCharacter, Preset
from bot.npc.turns import room_who
from fakes.characterai import FakeCharacter
from fakes.telegram.world import Chat, StoredMessage, User
from tests.telegram.conftest import QUIET, TelegramWorld, close_world, open_world

ADA = FakeCharacter(id="ada", name="Ada", style="librarian", chunk_chars=6, snapshot_delay=0.002)
REX = FakeCharacter(id="rex", name="Rex", style="pirate", chunk_chars=6, snapshot_delay=0.002)
ZORA = FakeCharacter(id="zora", name="Zora", style="oracle", chunk_chars=6, snapshot_delay=0.002)
BY_NAME = {c.name: c for c in (ADA, REX, ZORA)}
CAST = [NpcCharacter(character_id=c.id, name=c.name) for c in (ADA, REX, ZORA)]
PRESETS = [
    Preset(name="tavern", character_id="ada", npcs=CAST, queue_notice_after=None),
    Preset(name="hall", character_id="ada", npcs=CAST, room=True, queue_notice_after=None),
    Preset(name="hall-notice", character_id="ada", npcs=CAST, room=True, queue_notice_after=0.05),
    Preset(name="stage", character_id="ada", npcs=CAST[:2], scenes=True, scene_delay=0.05, scene_max_turns=2),
]


class World(TelegramWorld):
    async def group_for(self, preset: str, users: int = 1) -> tuple[Chat, list[User]]:
        members = [self.telegram.add_user(f"User{i}") for i in range(users)]
        group = self.telegram.add_group(f"Guild {preset}", members=members, bots=["CharBot"], supergroup=True)
        await self.core.store.put_binding(
            Binding(conversation=f"telegram:{group.id}", preset=preset, bound_by="telegram:1")
        )
        return group, members

    def npc_messages(self, chat: Chat) -> list[StoredMessage]:
        return [m for m in self.telegram.bot_messages(chat) if not m.text.startswith("⏳")]


async def open_npc_world(tmp_path: Path, final_format: str = "plain") -> World:
    # names are addressing: the bot must see every group message, so privacy mode is off
    opened = await open_world(
        tmp_path, default_preset=None, telegram={"final_format": final_format},
        characters=[ADA, REX, ZORA], presets=PRESETS, privacy=False,
    )  # fmt: skip
    return World(opened.telegram, opened.cai, opened.core, opened.adapter, opened.data_dir)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    opened = await open_npc_world(tmp_path)
    yield opened
    await close_world(opened)


def shown(name: str, reply: str) -> str:
    return f"{name}: {reply}"


def assert_bold_name(message: StoredMessage, name: str) -> None:
    assert message.text.startswith(f"{name}: ")
    assert {"type": "bold", "offset": 0, "length": len(name)} in [
        {k: e[k] for k in ("type", "offset", "length")} for e in message.entities
    ]


async def test_each_named_npc_answers_under_its_bold_name_and_replies_reach_the_npc(world: World) -> None:
    tg = world.telegram
    group, [ann] = await world.group_for("tavern")
    for name in ("Ada", "Rex", "Zora"):
        tg.user_sends(group, ann, f"Good evening, {name.lower()}!")
        expected = shown(name, BY_NAME[name].reply_to(f"User0: Good evening, {name.lower()}!"))
        message = await tg.wait_for_bot_message(group, expected, timeout=15)
        assert_bold_name(message, name)
        assert all(v.text.startswith(f"{name}: ") for v in message.versions), "every streamed edit shows the name"
        assert message.reply_to is not None and message.reply_to.sender == ann

    rex_message = next(m for m in world.npc_messages(group) if m.text.startswith("Rex: "))
    tg.user_sends(group, ann, "and what of the sea?", reply_to=rex_message)
    await tg.wait_for_bot_message(group, shown("Rex", REX.reply_to("User0: and what of the sea?")), timeout=15)

    tg.user_sends(group, ann, "/npc@CharBot zora will it rain?")
    await tg.wait_for_bot_message(group, shown("Zora", ZORA.reply_to("User0: will it rain?")), timeout=15)
    tg.user_sends(group, ann, "/npc Bob hi")
    await tg.wait_for_bot_message(group, "No character named 'Bob' here. The cast: Ada, Rex, Zora.\n"
                                  "Usage: /npc <name> <message>", timeout=15)  # fmt: skip
    tg.user_sends(group, ann, "chatter that names nobody")
    # The room answers in arrival order: once the next message is answered, the chatter was passed over.
    tg.user_sends(group, ann, "/npc@CharBot ada still there?")
    await tg.wait_for_bot_message(group, shown("Ada", ADA.reply_to("User0: still there?")), timeout=15)
    assert len(world.npc_messages(group)) == 7  # 3 named + 1 reply + /npc + the /npc usage + /npc; not the chatter
    assert tg.counters().penalties == 0


async def test_twenty_messages_from_five_users_in_a_room_run_in_arrival_order(world: World) -> None:
    tg, cai = world.telegram, world.cai
    group, users = await world.group_for("hall", users=5)
    names = ["Ada", "Rex", "Zora"]
    sent = []
    for i in range(20):
        user = users[i % 5]
        text = f"{names[i % 3]}, question number {i}?"
        tg.user_sends(group, user, text)
        sent.append((names[i % 3], f"User{i % 5}: {text}"))
    expected = [shown(name, BY_NAME[name].reply_to(line)) for name, line in sent]

    await tg.wait_for(lambda: len(world.npc_messages(group)) >= 20 and world.npc_messages(group), timeout=60)
    await tg.wait_for(lambda: [m.text for m in world.npc_messages(group)] == expected, timeout=30)
    for message, (name, _) in zip(world.npc_messages(group), sent, strict=True):
        assert_bold_name(message, name)
    room_id = await world.core.store.get_chat_id(f"telegram:{group.id}", room_who(CAST))
    assert room_id is not None
    turns = cai.chat(room_id).turns
    assert [t.text() for t in turns if t.is_human] == [line for _, line in sent]
    assert [t.is_human for t in turns] == [True, False] * 20, "each reply was complete before the next message"
    assert [t.character_id for t in turns if not t.is_human] == [BY_NAME[name].id for name, _ in sent]
    assert cai.room_violations == 0
    assert tg.counters().penalties == 0


async def test_a_long_wait_tells_the_user_the_message_is_queued(world: World) -> None:
    tg, cai = world.telegram, world.cai
    group, [ann, bob] = await world.group_for("hall-notice", users=2)
    # Ada takes a while to start: 2.5 s, far beyond the notice's 0.05 s, so the notice comes on a busy machine too
    cai.inject("delay", target="room", command="generate_turn", seconds=2.5)
    tg.user_sends(group, ann, "Ada, a long story please")
    tg.user_sends(group, bob, "Rex, are you there?")
    notice = await tg.wait_for_bot_message(group, "⏳ Your message is queued; 1 message ahead of it.", timeout=15)
    assert notice.reply_to is not None and notice.reply_to.sender == bob
    await tg.wait_for_bot_message(group, shown("Ada", ADA.reply_to("User0: Ada, a long story please")), timeout=15)
    await tg.wait_for_bot_message(group, shown("Rex", REX.reply_to("User1: Rex, are you there?")), timeout=15)
    assert cai.room_violations == 0


async def test_two_npcs_with_scenes_stop_after_the_configured_number_of_turns(world: World) -> None:
    tg = world.telegram
    group, [ann] = await world.group_for("stage")
    tg.user_sends(group, ann, "Ada, start us off")
    first = ADA.reply_to("User0: Ada, start us off")
    second = REX.reply_to(f"Ada: {first}")
    third = ADA.reply_to(f"Rex: {second}")
    await tg.wait_for_bot_message(group, shown("Ada", third), timeout=20)
    await tg.wait_idle(group, quiet=QUIET, timeout=10)
    messages = world.npc_messages(group)
    assert [m.text for m in messages] == [shown("Ada", first), shown("Rex", second), shown("Ada", third)]
    assert messages[0].reply_to is not None  # the answer to the user quotes them; the scene does not
    assert [m.reply_to for m in messages[1:]] == [None, None]


async def test_with_html_finals_the_name_stays_bold_and_the_text_exact(tmp_path: Path) -> None:
    world = await open_npc_world(tmp_path, final_format="html")
    try:
        tg = world.telegram
        group, [ann] = await world.group_for("tavern")
        world.cai.script_reply("rex", "Arr, <gold> & **rum** for all.")
        tg.user_sends(group, ann, "Rex, what treasure?")
        message = await tg.wait_for_bot_message(group, "Rex: Arr, <gold> & rum for all.", timeout=15)
        assert_bold_name(message, "Rex")
        bold = [(e["offset"], e["length"]) for e in message.entities if e["type"] == "bold"]
        assert bold == [(0, 3), (len("Rex: Arr, <gold> & "), 3)], "the name and the character's own bold"
    finally:
        await close_world(world)
