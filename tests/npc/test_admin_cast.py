"""``/preset npc list|add|remove|set``: the cast of NPC presets through the admin commands, with their
permission rules; binding an NPC preset makes its group room at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.admin import AdminResult
from bot.admin.parse import USAGE
from bot.core import Core
from bot.models import NpcCharacter, Preset
from bot.npc import NpcReply
from bot.npc.turns import room_who
from bot.ports import EVERYONE
from bot.store.sqlite import SqliteStateStore
from bot.upstream.base import CharacterInfo, ErrorCode, UpstreamError
from config.settings import BridgeSettings, Settings
from tests.admin.conftest import ADMIN, GROUP, MEMBER, OTHER_GROUP, OWNER, dump_sqlite, request
from tests.door_support import cast_items
from tests.npc.doubles import CastUpstream

KNOWN = {"ada-char": "Ada Lovelace", "rex-char": "Rex", "zora-char": "Zora"}


class KnownCast(CastUpstream):
    async def character_info(self, character_id: str) -> CharacterInfo:
        if character_id not in KNOWN:
            raise UpstreamError(ErrorCode.NOT_FOUND, "no such character")
        return CharacterInfo(
            id=character_id, name=KNOWN[character_id], avatar_url=f"https://img.example/{character_id}"
        )


class Admin:
    def __init__(self, tmp_path: Path) -> None:
        presets = [Preset(name="ada", character_id="ada-char", display_name="Ada")]
        settings = Settings(presets=presets, bridge=BridgeSettings(data_dir=tmp_path, owners=[OWNER]))
        self.upstream = KnownCast()
        self.core = Core(settings, SqliteStateStore(tmp_path / "state.sqlite3"), {"characterai": self.upstream})
        self.admin = self.core.admin
        self.path = tmp_path / "state.sqlite3"

    async def run(self, args: str, user: str = ADMIN, conversation: str = GROUP) -> AdminResult:
        return await self.admin.handle(request(user=user, conversation=conversation), "preset", args, user == ADMIN)

    async def preset(self, name: str = "ada") -> Preset:
        found = await self.core.catalog.get(name)
        assert found is not None
        return found


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[Admin]:
    opened = Admin(tmp_path)
    yield opened
    await opened.core.close()


async def test_the_first_npc_added_makes_a_cast_with_the_presets_own_character(admin: Admin) -> None:
    added = await admin.run("npc add ada rex-char")
    assert added.ok, added.text
    assert added.text == "Added Rex to ada. Cast: Ada, Rex (one chat each)."
    added = await admin.run('npc add ada zora-char "Madame Zora"')
    assert added.ok, added.text
    preset = await admin.preset()
    assert preset.npcs == [
        NpcCharacter(character_id="ada-char", name="Ada"),
        NpcCharacter(character_id="rex-char", name="Rex", avatar_url="https://img.example/rex-char"),
        NpcCharacter(character_id="zora-char", name="Madame Zora", avatar_url="https://img.example/zora-char"),
    ]
    listed = await admin.run("npc list ada", user=MEMBER)  # anyone may look at the cast
    assert listed.ok
    assert listed.text.splitlines()[:4] == [
        "ada: Cast: Ada, Rex, Madame Zora (one chat each).",
        "- Ada: ada-char",
        "- Rex: rex-char (avatar)",
        "- Madame Zora: zora-char (avatar)",
    ]
    assert "npcs: Ada, Rex, Madame Zora" in (await admin.run("show ada", user=MEMBER)).text
    audit = [entry.detail for entry in await admin.core.store.list_audit(conversation=GROUP)]
    assert audit == ["ada: npc add zora-char as Madame Zora", "ada: npc add rex-char as Rex"]


async def test_bad_additions_change_nothing(admin: Admin) -> None:
    assert (await admin.run("npc add ada rex-char")).ok
    before = dump_sqlite(admin.path)
    cases = {
        "npc add ada rex-char": "rex-char is already in the cast of ada.",
        "npc add ada zora-char rex": "The cast of ada already has a rex; give another name.",
        "npc add ada nobody-char": "characterai has no character 'nobody-char'.",
        "npc add nope rex-char": "No preset named 'nope' (/preset list shows them).",
    }
    for args, first_line in cases.items():
        result = await admin.run(args)
        assert not result.ok
        assert result.text.splitlines() == [first_line, f"Usage: {USAGE['npc add']}"], args
    assert dump_sqlite(admin.path) == before


async def test_members_may_not_change_a_cast_and_admins_only_their_own_chats(admin: Admin) -> None:
    before = dump_sqlite(admin.path)
    for args in ("npc add ada rex-char", "npc remove ada Ada", "npc set ada scenes true"):
        result = await admin.run(args, user=MEMBER)
        assert not result.ok and "admin" in result.text.lower(), result.text
    assert dump_sqlite(admin.path) == before
    assert (await admin.run("use ada", user=OWNER, conversation=OTHER_GROUP)).ok
    elsewhere = await admin.run("npc add ada rex-char")
    assert not elsewhere.ok and "outside this server or chat" in elsewhere.text
    assert (await admin.run("npc add ada rex-char", user=OWNER)).ok


async def test_removing_members_down_to_none_gives_a_plain_preset_back(admin: Admin) -> None:
    assert (await admin.run("npc add ada rex-char")).ok
    removed = await admin.run("npc remove ada ada")
    assert removed.text == "Removed Ada from ada. Cast: Rex (one chat each)."
    assert (await admin.preset()).character_id == "rex-char"
    missing = await admin.run("npc remove ada Zora")
    assert not missing.ok and missing.text.startswith("ada has no cast member 'Zora' (cast: Rex).")
    last = await admin.run("npc remove ada rex-char")  # by character id too
    assert last.ok and last.text == "Removed Rex from ada. ada is a one-character preset again (rex-char)."
    assert (await admin.preset()).npcs == []


@pytest.mark.parametrize(
    ("args", "key", "value"),
    [
        ("npc set ada room true", "room", True),
        ("npc set ada fallback none", "fallback", "none"),
        ("npc set ada merge_queued yes", "merge_queued", True),
        ("npc set ada queue_notice_after never", "queue_notice_after", None),
        ("npc set ada queue_notice_after 2.5", "queue_notice_after", 2.5),
        ("npc set ada scene_max_turns 4", "scene_max_turns", 4),
    ],
)
async def test_npc_options_are_set_validated(admin: Admin, args: str, key: str, value: object) -> None:
    result = await admin.run(args)
    assert result.ok, result.text
    assert getattr(await admin.preset(), key) == value


async def test_npc_options_reset_and_refuse_bad_values(admin: Admin) -> None:
    assert (await admin.run("npc set ada scene_delay 9")).ok
    assert (await admin.run("npc set ada scene_delay default")).text == "Set scene_delay=default on ada."
    assert (await admin.preset()).scene_delay == Preset.model_fields["scene_delay"].default
    for args, reason in (
        ("npc set ada fallback loudest", "fallback: Input should be 'room', 'last_speaker' or 'none'"),
        ("npc set ada scene_max_turns 99", "scene_max_turns: Input should be less than or equal to 20"),
        ("npc set ada colour red", "unknown npc key 'colour'"),
        ("npc dance ada", "unknown npc action 'dance'"),
    ):
        result = await admin.run(args)
        assert not result.ok and result.text.startswith(reason), result.text


async def test_binding_a_room_preset_creates_its_room_at_once(admin: Admin) -> None:
    assert (await admin.run("npc add ada rex-char")).ok
    assert (await admin.run("npc set ada room true")).ok
    bound = await admin.run("use ada")
    assert bound.ok and bound.greeting is None
    assert bound.text.splitlines()[1] == "Cast: Ada, Rex (one group room)."
    preset = await admin.preset()
    room_id = await admin.core.store.get_chat_id(GROUP, room_who(preset.npcs))
    assert room_id is not None and admin.upstream.rooms[room_id].characters == ["ada-char", "rex-char"]


async def test_a_room_is_resumed_by_id_and_an_old_plain_chat_is_never_taken_for_a_room(admin: Admin) -> None:
    assert (await admin.run("use ada")).ok  # a plain preset first: its chat is stored for everyone
    await admin.core.store.set_chat_id(GROUP, EVERYONE, "plain-dm-chat")
    assert (await admin.run("npc add ada rex-char")).ok
    assert (await admin.run("npc set ada room true")).ok
    said = [item async for item in cast_items(admin.core.door, request(text="Rex, hello"))]
    assert len(said) == 1 and len(admin.upstream.rooms) == 1  # a new room, not the old chat
    [made] = admin.upstream.rooms

    old = await admin.upstream.create_room(["ada-char", "rex-char"], "from before")
    resumed = await admin.run(f"use ada {old.id}")
    assert resumed.ok and old.id in resumed.text
    async for item in cast_items(admin.core.door, request(text="Ada, are you there?")):
        assert isinstance(item, NpcReply)
        _ = [event async for event in item.events]
    assert [text for author, text in admin.upstream.rooms[old.id].turns if author == "human"] == [
        "2: Ada, are you there?"
    ]
    assert len(admin.upstream.rooms) == 2 and made != old.id
