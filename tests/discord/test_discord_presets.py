"""Presets and admin slash commands through the real discord.py and the fake Discord."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.discord.adapter import DiscordAdapter
from charbridge.app import SQLITE_FILE
from fakes.discord.interactions import InteractionRecord
from tests.bridge_world import start_core
from tests.discord.conftest import CHARACTERS, DiscordWorld

REX, ADA = CHARACTERS


def dump_store(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(data_dir / SQLITE_FILE) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables if t != "markers"}


async def answer_of(world: DiscordWorld, record: InteractionRecord) -> str:
    dc = world.discord
    message_id = await world.until(lambda: record.original_message_id)
    await dc.wait_for(lambda: dc.message_view(message_id).content != "")
    return dc.message_view(message_id).content


async def preset(world: DiscordWorld, user: str, subcommand: str, **options: str | bool) -> str:
    record = await world.discord.slash("general", user, "preset", dict(options), subcommand=subcommand)
    return await answer_of(world, record)


async def test_preset_commands_are_synced_with_autocomplete(world: DiscordWorld) -> None:
    synced = {c["name"]: c for c in world.discord.guild_commands[world.discord.guild.id]}
    assert {"preset", "character"} <= set(synced)
    subcommands = {option["name"]: option for option in synced["preset"]["options"]}
    assert {"list", "show", "use", "unbind", "create", "set", "delete", "history"} <= set(subcommands)
    name_option = next(o for o in subcommands["use"]["options"] if o["name"] == "name")
    assert name_option.get("autocomplete") is True


async def test_a_member_is_refused_and_nothing_changes(world: DiscordWorld, tmp_path: Path) -> None:
    before = dump_store(tmp_path)
    for subcommand, options in (
        ("use", {"name": "crowd"}),
        ("create", {"name": "newbie", "character_id": "ada"}),
        ("set", {"name": "rex", "key": "trigger", "value": "all"}),
        ("delete", {"name": "rex", "force": True}),
    ):
        answer = await preset(world, "bob", subcommand, **options)
        assert "admin" in answer.lower(), answer
    refused = await world.discord.slash("general", "bob", "character", character_id="ada")
    assert "admin" in (await answer_of(world, refused)).lower()
    assert dump_store(tmp_path) == before


async def test_an_admin_binds_and_it_survives_a_restart(world: DiscordWorld) -> None:
    answer = await preset(world, "alice", "use", name="crowd")  # alice owns the server
    assert "crowd" in answer
    dc = world.discord
    key = world.channel_key("general")
    bob = f"discord:{dc.user('bob').id}"
    await dc.user_sends("general", "bob", "what do you read?", mention_bot=True)
    assert await world.character_said(key, who=bob) == ADA.reply_to("what do you read?")
    chat_id = await world.core.store.get_chat_id(key, bob)

    # The bridge restarts (the platforms stay): same data directory, new core and adapter.
    await world.adapter.stop()
    await world.core.close()
    world.core = await start_core(world.core.settings)
    world.adapter = DiscordAdapter(world.core.settings, world.core.door)
    await world.adapter.start()

    await dc.user_sends("general", "bob", "and after that?", mention_bot=True)
    assert await world.character_said(key, replies=2, who=bob) == ADA.reply_to("and after that?")
    assert await world.core.store.get_chat_id(key, bob) == chat_id
    upstream = str(world.cai.chat(chat_id))
    assert "what do you read?" in upstream and "and after that?" in upstream


async def test_history_shows_the_authors(world: DiscordWorld) -> None:
    await preset(world, "alice", "use", name="crowd")
    await preset(world, "alice", "use", name="rex")
    history = await preset(world, "alice", "history")
    alice = f"discord:{world.discord.user('alice').id}"
    assert history.count(alice) >= 2 and "crowd" in history


async def test_per_user_scope_two_chats_channel_scope_one(world: DiscordWorld) -> None:
    dc = world.discord
    key = world.channel_key("general")
    await preset(world, "alice", "use", name="crowd")
    for user in ("alice", "bob"):
        await dc.user_sends("general", user, f"hello from {user}", mention_bot=True)
        await world.character_said(key, who=f"discord:{dc.user(user).id}")
    assert len(await world.core.store.list_chat_ids(key)) == 2
    await preset(world, "alice", "use", name="rex")
    await dc.user_sends("general", "bob", "ahoy", mention_bot=True)
    await world.character_said(key)
    assert list(await world.core.store.list_chat_ids(key)) == ["*"]
