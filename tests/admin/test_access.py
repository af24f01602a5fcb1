"""Who may do what: refusals change nothing (a raw dump of the store is compared), owners reach everywhere,
platform admins their own server or chat, DM users their own DM."""

from __future__ import annotations

from typing import Any

import pytest

from bot.admin.permissions import REFUSALS, Access
from tests.admin.conftest import ADMIN, GROUP, MEMBER, OTHER_GROUP, OWNER, World


async def seed(world: World) -> None:
    """Some state of every kind: a stored preset, bindings, upstream chats, activity, audit entries."""
    assert (await world.run("create nova nova-char", user=OWNER)).ok
    assert (await world.run("use nova", user=OWNER)).ok
    assert (await world.run("use kira", user=OWNER, conversation=OTHER_GROUP)).ok
    await world.reply(user=MEMBER)
    await world.reply(user=MEMBER, conversation=OTHER_GROUP)


@pytest.mark.parametrize(
    ("args", "command", "needed"),
    [
        ("use ada", "preset", Access.CONVERSATION),
        ("use ada chat-1", "preset", Access.EDIT_PRESETS),
        ("unbind", "preset", Access.CONVERSATION),
        ("create zed zed-char", "preset", Access.EDIT_PRESETS),
        ("set nova trigger all", "preset", Access.EDIT_PRESETS),
        ("set ada display_name Eve", "preset", Access.EDIT_PRESETS),
        ("delete nova", "preset", Access.EDIT_PRESETS),
        ("delete nova force", "preset", Access.EDIT_PRESETS),
        ("history", "preset", Access.CONVERSATION),
        ("zed-char", "character", Access.CONVERSATION),
    ],
)
async def test_a_members_changes_are_refused_and_nothing_changes(
    world: World, args: str, command: str, needed: Access
) -> None:
    await seed(world)
    before = world.dump()
    lookups = len(world.upstream.lookups)
    result = await world.run(args, user=MEMBER, command=command)
    assert not result.ok
    assert result.text == REFUSALS[needed]
    assert result.greeting is None
    assert world.dump() == before
    assert len(world.upstream.lookups) == lookups  # the backend was not even asked


async def test_everyone_may_list_and_show(world: World) -> None:
    await seed(world)
    before = world.dump()
    listing = await world.run("list", user=MEMBER)
    shown = await world.run("show nova", user=MEMBER)
    assert listing.ok and shown.ok
    assert "- nova (Nova-Char): characterai nova-char [stored, answers here]" in listing.text.splitlines()
    assert "- ada (Ada): characterai ada-char [file, default]" in listing.text.splitlines()
    assert shown.text.startswith("nova (made by an admin; bound here)")
    assert world.dump() == before


async def test_only_owners_see_every_conversations_history(world: World) -> None:
    await seed(world)
    refused = await world.run("history all", user=ADMIN)
    assert (refused.ok, refused.text) == (False, REFUSALS[Access.OWNER])
    everywhere = await world.run("history all", user=OWNER)
    assert f"in {OTHER_GROUP}: use kira" in everywhere.text
    assert f"in {GROUP}: use nova" in everywhere.text


async def test_a_dm_user_binds_characters_for_their_dm_only(world: World) -> None:
    dm: dict[str, Any] = {"conversation": "telegram:3", "dm": True}
    result = await world.run("use kira", user=MEMBER, **dm)
    assert result.ok
    binding = await world.store.get_binding("telegram:3")
    assert binding is not None and (binding.preset, binding.bound_by) == ("kira", MEMBER)
    assert await world.store.get_binding(GROUP) is None

    before = world.dump()
    for args in ("create zed zed-char", "set kira trigger all", "delete kira", "use ada some-chat", "history all"):
        refused = await world.run(args, user=MEMBER, **dm)
        assert not refused.ok, args
    assert world.dump() == before


async def test_a_platform_admin_cannot_change_a_preset_used_in_another_chat(world: World) -> None:
    await seed(world)  # nova is bound in GROUP, kira in OTHER_GROUP
    before = world.dump()
    for args in ("set kira trigger all", "delete nova force"):
        refused = await world.run(args, user=ADMIN, conversation=OTHER_GROUP if "nova" in args else GROUP)
        assert not refused.ok and "only a bot owner" in refused.text, args
    default = await world.run("set ada trigger all", user=ADMIN)
    assert not default.ok and "default preset" in default.text
    assert world.dump() == before

    # in its own chat the admin may change it; an owner may change anything anywhere
    assert (await world.run("set nova trigger all", user=ADMIN)).ok
    assert (await world.run("set kira trigger all", user=OWNER)).ok
    assert (await world.run("set ada trigger all", user=OWNER)).ok


async def test_a_discord_admin_reaches_every_channel_of_their_server(world: World) -> None:
    channel, sibling, elsewhere = "discord:10:20", "discord:10:30", "discord:99:20"
    assert (await world.run("create zed zed-char", user=OWNER)).ok
    assert (await world.run("use zed", user=OWNER, conversation=sibling)).ok
    admin = "discord:2"
    allowed = await world.run("set zed trigger all", user=admin, admin=True, conversation=channel)
    assert allowed.ok
    assert (await world.run("use zed", user=OWNER, conversation=elsewhere)).ok
    refused = await world.run("set zed trigger mention", user=admin, admin=True, conversation=channel)
    assert not refused.ok and "outside this server" in refused.text
    preset = await world.core.catalog.get("zed")
    assert preset is not None and preset.trigger == "all"
