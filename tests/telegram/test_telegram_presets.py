"""Presets and admin commands through the real python-telegram-bot and the fake Bot API."""

from __future__ import annotations

import sqlite3

from charbridge.app import SQLITE_FILE
from fakes.telegram.world import Chat, User
from tests.telegram.conftest import CHARACTERS, QUIET, TelegramWorld

ADA, REX = CHARACTERS


def dump_store(world: TelegramWorld) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the bridge's SQLite store."""
    with sqlite3.connect(world.data_dir / SQLITE_FILE) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables if t != "markers"}


async def say(world: TelegramWorld, chat: Chat, user: User, text: str, starts: str) -> str:
    """Send ``text`` and return the bot's answer that starts with ``starts``."""
    tg = world.telegram
    if tg.bot_messages(chat):
        await tg.wait_idle(chat, quiet=QUIET, timeout=10)  # earlier answers (and greetings) are all in
    before = {m.message_id for m in tg.bot_messages(chat)}
    tg.user_sends(chat, user, text)
    answer = await tg.wait_for(
        lambda: next(
            (m for m in tg.bot_messages(chat) if m.message_id not in before and m.text.startswith(starts)), None
        ),
        timeout=15,
    )
    return answer.text


def group_with_admin(world: TelegramWorld) -> tuple[Chat, User, User]:
    tg = world.telegram
    admin, member = tg.add_user("Ada Admin"), tg.add_user("Mo Member")
    group = tg.add_group("Guild", members=[admin, member], bots=["CharBot"], admins=[admin], supergroup=True)
    return group, admin, member


async def test_a_member_cannot_change_presets_and_nothing_changes(world: TelegramWorld) -> None:
    group, _, member = group_with_admin(world)
    before = dump_store(world)
    for command in (
        "/preset use rex-per-user",
        "/preset create newbie rex",
        "/preset set ada trigger all",
        "/preset delete ada force",
        "/character rex",
    ):
        answer = await say(world, group, member, command, "")
        assert "admin" in answer.lower(), answer
    assert dump_store(world) == before


async def test_an_admin_binds_a_preset_and_it_survives_a_restart(world: TelegramWorld) -> None:
    tg = world.telegram
    group, admin, member = group_with_admin(world)
    answer = await say(world, group, admin, "/preset use rex-per-user", "")
    assert "rex-per-user" in answer

    await say(world, group, member, "@CharBot ahoy", REX.reply_to("ahoy"))
    conversation = f"telegram:{group.id}"
    chat_id = await world.core.store.get_chat_id(conversation, f"telegram:{member.id}")
    assert chat_id is not None

    await world.restart_bridge()
    await say(world, group, member, "@CharBot still there?", REX.reply_to("still there?"))
    assert await world.core.store.get_chat_id(conversation, f"telegram:{member.id}") == chat_id
    upstream_chat = world.cai.chat(chat_id)
    assert upstream_chat is not None
    human_texts = str(upstream_chat)
    assert "ahoy" in human_texts and "still there?" in human_texts
    assert tg.counters().penalties == 0


async def test_per_user_scope_gives_two_chats_and_channel_scope_one(world: TelegramWorld) -> None:
    group, admin, member = group_with_admin(world)
    conversation = f"telegram:{group.id}"
    await say(world, group, admin, "/preset use rex-per-user", "")
    await say(world, group, admin, "@CharBot one", REX.reply_to("one"))
    await say(world, group, member, "@CharBot two", REX.reply_to("two"))
    per_user = await world.core.store.list_chat_ids(conversation)
    assert len(per_user) == 2 and len(set(per_user.values())) == 2

    await say(world, group, admin, "/preset use ada", "")
    await say(world, group, admin, "@CharBot three", ADA.reply_to("three"))
    await say(world, group, member, "@CharBot four", ADA.reply_to("four"))
    assert list((await world.core.store.list_chat_ids(conversation)).keys()) == ["*"]


async def test_history_lists_changes_with_their_authors(world: TelegramWorld) -> None:
    group, admin, _ = group_with_admin(world)
    await say(world, group, admin, "/preset use rex-per-user", "")
    await say(world, group, admin, "/preset use ada", "")
    history = await say(world, group, admin, "/preset history", "")
    assert history.count(f"Ada Admin (telegram:{admin.id})") >= 2, history
    assert "rex-per-user" in history and "ada" in history


async def test_a_user_may_bind_a_character_in_their_own_private_chat(world: TelegramWorld) -> None:
    tg = world.telegram
    ann = tg.add_user("Ann")
    chat = tg.private_chat(ann)
    answer = await say(world, chat, ann, "/preset use rex-per-user", "")
    assert "rex-per-user" in answer
    await say(world, chat, ann, "hello", REX.reply_to("hello"))


async def test_bad_arguments_get_one_line_and_the_usage(world: TelegramWorld) -> None:
    group, admin, _ = group_with_admin(world)
    answer = await say(world, group, admin, "/preset use nosuchpreset", "")
    assert "nosuchpreset" in answer and "usage" in answer.lower()
