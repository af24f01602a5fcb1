"""/preset create, set, delete, show, history and autocomplete against both stores."""

from __future__ import annotations

from typing import Any

import pytest

from bot.admin.parse import USAGE
from config.settings import Settings
from tests.admin.conftest import ADMIN, GROUP, MEMBER, OTHER_GROUP, OWNER, World, build_world


async def test_create_checks_the_character_and_stores_the_preset(world: World) -> None:
    result = await world.run('create nova nova-char display_name="Nova Prime" trigger=all pacing.min_interval=2')
    assert result.ok and result.text == "Created nova (Nova Prime): characterai nova-char."
    assert world.upstream.lookups == ["nova-char"]
    stored = await world.store.get_preset("nova")
    assert stored is not None
    assert (stored.character_id, stored.display_name, stored.trigger, stored.pacing) == (
        "nova-char", "Nova Prime", "all", {"min_interval": 2.0}
    )
    assert stored.avatar_url == "https://img.example/nova-char.png"  # filled in from the backend
    assert [p.name for p in await world.core.catalog.all()] == ["ada", "kira", "nova", "quiet"]


async def test_create_refuses_unknown_characters_and_a_down_backend(world: World) -> None:
    before = world.dump()
    unknown = await world.run("create nova no-such-char")
    assert not unknown.ok
    assert unknown.text.splitlines() == ["characterai has no character 'no-such-char'.", f"Usage: {USAGE['create']}"]

    world.upstream.down = True
    down = await world.run("create nova nova-char")
    assert not down.ok and "could not be reached" in down.text and "nothing changed" in down.text
    assert len(down.text.splitlines()) == 1
    assert world.dump() == before


async def test_create_without_a_configured_backend_says_so(
    settings: Settings, store_factory: tuple[Any, Any]
) -> None:
    world = build_world(settings, *store_factory, with_backend=False)
    try:
        result = await world.run("create nova nova-char")
        assert not result.ok and "backend is not configured" in result.text
        assert await world.store.get_preset("nova") is None
    finally:
        await world.close()


async def test_setting_a_file_preset_makes_a_stored_override(world: World) -> None:
    result = await world.run("set ada display_name Ada Lovelace", user=OWNER)
    assert result.ok and "overrides the config file" in result.text
    preset = await world.core.catalog.get("ada")
    assert preset is not None and preset.display_name == "Ada Lovelace"
    assert world.core.catalog.from_file("ada") is not None
    assert "[override, answers here, default]" in (await world.run("list")).text

    same = await world.run("set ada display_name Ada Lovelace", user=OWNER)
    assert same.ok and "nothing changed" in same.text

    reverted = await world.run("delete ada", user=OWNER)
    assert reverted.ok and "config file's version applies again" in reverted.text
    preset = await world.core.catalog.get("ada")
    assert preset is not None and preset.display_name == "Ada"


async def test_set_changes_one_key_and_default_resets_it(world: World) -> None:
    assert (await world.run("create nova nova-char pacing.min_interval=2")).ok
    assert (await world.run("set quiet greeting on")).ok  # a file preset no other chat uses: an admin may
    assert (await world.run("set nova greeting off")).ok
    assert (await world.run("set nova pacing.min_interval default")).ok
    assert (await world.run("set nova scope user")).ok
    preset = await world.store.get_preset("nova")
    assert preset is not None and (preset.greeting, preset.pacing, preset.scope) == (False, {}, "user")


async def test_a_file_preset_cannot_be_deleted(world: World) -> None:
    before = world.dump()
    result = await world.run("delete quiet force", user=OWNER)
    assert not result.ok and "lives in the config file" in result.text
    assert world.dump() == before


async def test_delete_is_refused_while_bound_unless_forced(world: World) -> None:
    assert (await world.run("create nova nova-char", user=OWNER)).ok
    assert (await world.run("use nova", user=OWNER)).ok
    assert (await world.run("use nova", user=OWNER, conversation=OTHER_GROUP)).ok
    await world.reply()

    before = world.dump()
    refused = await world.run("delete nova", user=OWNER)
    assert not refused.ok
    assert refused.text.splitlines() == [
        f"nova is bound in {GROUP}, {OTHER_GROUP}; add 'force' to delete it and unbind those.",
        f"Usage: {USAGE['delete']}",
    ]
    assert world.dump() == before

    forced = await world.run("delete nova force", user=OWNER)
    assert forced.ok and forced.text == f"Deleted nova and unbound it from {GROUP}, {OTHER_GROUP}."
    assert await world.store.get_preset("nova") is None
    assert await world.store.list_bindings() == []
    assert await world.store.list_chat_ids(GROUP) == {}
    unbound_there = await world.store.list_audit(conversation=OTHER_GROUP)
    assert (unbound_there[0].action, unbound_there[0].actor) == ("unbind", OWNER)


async def test_history_lists_the_changes_with_their_authors(world: World) -> None:
    assert (await world.run("create nova nova-char", user=OWNER)).ok
    assert (await world.run("set nova trigger all", user=ADMIN)).ok
    assert (await world.run("use nova", user=ADMIN)).ok
    assert (await world.run("use kira", user=OWNER, conversation=OTHER_GROUP)).ok

    history = await world.run("history", user=ADMIN)
    lines = history.text.splitlines()
    assert lines[0] == "Latest changes here:"
    def author(user: str) -> str:  # the display name the test world gives a user, then its id
        return f"{user.split(':')[-1]} ({user})"

    assert [line.split(" ", 4)[4] for line in lines[1:]] == [
        f"{author(ADMIN)}: use nova",
        f"{author(ADMIN)}: set nova trigger=all",
        f"{author(OWNER)}: create nova: character nova-char",
    ]
    assert all(line.split(" ")[3] == "UTC" for line in lines[1:])  # "- 2025-01-02 13:04 UTC actor: ..."
    assert "kira" not in history.text  # another chat's change

    two = await world.run("history 2 all", user=OWNER)
    assert len(two.text.splitlines()) == 3 and f"({OWNER}) in {OTHER_GROUP}: use kira" in two.text


async def test_show_describes_a_preset(world: World) -> None:
    shown = await world.run("show kira", user=MEMBER)
    assert shown.text.splitlines() == [
        "kira (from the config file)",
        "character: kira-char on characterai",
        "display name: the character's own name; avatar: none",
        "greeting: on; trigger: mention; scope: user",
        "pacing: platform defaults",
    ]


@pytest.mark.parametrize(
    ("args", "first_line", "usage"),
    [
        ("use nobody", "No preset named 'nobody' (/preset list shows them).", USAGE["use"]),
        ("show nobody", "No preset named 'nobody' (/preset list shows them).", USAGE["show"]),
        ("set nobody trigger all", "No preset named 'nobody' (/preset list shows them).", USAGE["set"]),
        ("delete nobody", "No preset named 'nobody' (/preset list shows them).", USAGE["delete"]),
        ("create ada ada-char", "A preset named ada already exists; change it with /preset set.", USAGE["create"]),
        ("create nova bad!id", "'bad!id' is not a valid character id", USAGE["create"]),
        ("set ada colour red", "unknown key 'colour' (keys: display_name, avatar_url, greeting, trigger, scope, "
         "pacing.<field>)", USAGE["set"]),
        ("set ada trigger loudly", "trigger: Input should be 'mention' or 'all'", USAGE["set"]),
    ],
)
async def test_bad_arguments_get_one_line_and_the_usage(world: World, args: str, first_line: str, usage: str) -> None:
    before = world.dump()
    result = await world.run(args, user=OWNER)
    assert not result.ok
    assert result.text.splitlines() == [first_line, f"Usage: {usage}"]
    assert world.dump() == before


async def test_preset_names_for_autocomplete(world: World) -> None:
    assert (await world.run("create kirin zed-char", user=OWNER)).ok
    assert await world.admin.preset_names("ki") == ["kira", "kirin"]
    assert await world.admin.preset_names("K") == ["kira", "kirin"]
    assert await world.admin.preset_names("") == ["ada", "kira", "kirin", "quiet"]
    assert await world.admin.preset_names("", limit=2) == ["ada", "kira"]
    assert await world.admin.preset_names("zz") == []


HUGE = "ж" * 10_000  # a letter that no usage text holds, so every one in an answer is an echo


OVERSIZED = {
    "subcommand": ("preset", HUGE),
    "show": ("preset", f"show {HUGE}"),
    "use": ("preset", f"use {HUGE}"),
    "use-chat-id": ("preset", f"use ada {HUGE}"),
    "create-name": ("preset", f"create {HUGE} zed-char"),
    "create-character": ("preset", f"create nova {HUGE}"),
    "create-option": ("preset", f"create nova zed-char {HUGE}"),
    "create-key": ("preset", f"create nova zed-char {HUGE}=1"),
    "set-key": ("preset", f"set ada {HUGE} 1"),
    "set-pacing": ("preset", f"set ada pacing.{HUGE} 1"),
    "set-display-name": ("preset", f"set ada display_name {HUGE}"),
    "delete-force": ("preset", f"delete ada {HUGE}"),
    "history": ("preset", f"history {HUGE}"),
    "npc-action": ("preset", f"npc {HUGE}"),
    "npc-name": ("preset", f"npc add ada zed-char {HUGE}"),
    "npc-remove": ("preset", f"npc remove ada {HUGE}"),
    "npc-key": ("preset", f"npc set ada {HUGE} 1"),
    "two-lines": ("preset", f"show {HUGE[:50]}\n{HUGE}"),
    "character": ("character", HUGE),
}


@pytest.mark.parametrize(("command", "args"), list(OVERSIZED.values()), ids=list(OVERSIZED))
async def test_an_oversized_value_is_echoed_as_one_short_line(world: World, command: str, args: str) -> None:
    """Whatever the command, an answer shows at most ~100 characters of what the user typed, cut with "…"."""
    result = await world.run(args, user=OWNER, command=command)
    assert not result.ok
    echoed = [line for line in result.text.splitlines() if "ж" in line]
    assert len(echoed) <= 1 and all("…" in line for line in echoed)
    assert result.text.count("ж") <= 100


async def test_a_long_accepted_value_is_shown_cut_in_the_answer(world: World) -> None:
    avatar = "https://img.example/" + "a" * 1500 + ".png"
    result = await world.run(f"set ada avatar_url {avatar}", user=OWNER)
    assert result.ok and result.text.startswith("Set avatar_url=https://img.example/aaa")
    assert len(result.text) < 200 and "…" in result.text
    shown = await world.run("show ada", user=OWNER)
    assert avatar not in shown.text and max(len(line) for line in shown.text.splitlines()) < 200
