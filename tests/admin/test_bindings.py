"""/preset use, /preset unbind and /character against both stores, through the router and the chat service."""

from __future__ import annotations

from bot.admin.bindings import auto_preset_name
from bot.ports import EVERYONE
from tests.admin.conftest import ADMIN, GROUP, MEMBER, OWNER, World, request


async def test_an_admin_binds_a_preset_and_the_router_follows(world: World) -> None:
    before = await world.core.router.resolve(request(user=MEMBER))
    assert before is not None and (before.preset.name, before.bound) == ("ada", False)

    result = await world.run("use quiet")
    assert result.ok and "Bound quiet here" in result.text
    route = await world.core.router.resolve(request(user=MEMBER))
    assert route is not None and (route.preset.name, route.bound, route.conversation) == ("quiet", True, GROUP)
    binding = await world.store.get_binding(GROUP)
    assert binding is not None and binding.bound_by == ADMIN
    events = await world.reply()
    assert events[-1].kind == "final" and events[-1].text.startswith("quiet-char heard:")


async def test_binding_posts_the_greeting_when_the_preset_says_so(world: World) -> None:
    greeted = await world.run("use ada")
    assert greeted.greeting is not None
    assert (greeted.greeting.text, greeted.greeting.speaker) == ("Hello from ada-char", "Ada")
    silent = await world.run("use quiet")
    assert silent.ok and silent.greeting is None


async def test_a_thread_binds_only_the_thread(world: World) -> None:
    assert (await world.run("use quiet", thread="7")).ok
    in_thread = await world.core.router.resolve(request(user=MEMBER, thread="7"))
    in_channel = await world.core.router.resolve(request(user=MEMBER))
    assert in_thread is not None and (in_thread.preset.name, in_thread.conversation) == ("quiet", f"{GROUP}/7")
    assert in_channel is not None and (in_channel.preset.name, in_channel.bound) == ("ada", False)


async def test_rebinding_starts_a_new_upstream_chat(world: World) -> None:
    assert (await world.run("use ada")).ok
    await world.reply()
    old_chat = await world.store.get_chat_id(GROUP, EVERYONE)
    assert old_chat is not None and await world.store.get_conversation(GROUP, EVERYONE) is not None

    assert (await world.run("use ada")).ok
    assert await world.store.list_chat_ids(GROUP) == {}
    assert await world.store.get_conversation(GROUP, EVERYONE) is None
    await world.reply()
    new_chat = await world.store.get_chat_id(GROUP, EVERYONE)
    assert new_chat is not None and new_chat != old_chat


async def test_rebinding_with_a_chat_id_resumes_that_chat_for_everyone(world: World) -> None:
    existing = await world.upstream.create_chat("quiet-char")
    await world.run("use ada")
    await world.reply(user=MEMBER)

    result = await world.run(f"use quiet {existing.chat_id}")
    assert result.ok and existing.chat_id in result.text
    assert result.greeting is None  # a resumed chat already has its beginning
    assert await world.store.list_chat_ids(GROUP) == {EVERYONE: existing.chat_id}
    await world.reply(user="telegram:77")
    assert world.upstream.chats[existing.chat_id][0] == "hi"


async def test_a_chat_id_cannot_be_shared_under_per_user_scope(world: World) -> None:
    before = world.dump()
    result = await world.run("use kira chat-9")
    assert not result.ok and "one chat per user" in result.text
    assert result.text.splitlines()[1] == "Usage: /preset use <name> [chat_id]"
    assert world.dump() == before


async def test_per_user_scope_gives_two_users_two_chats(world: World) -> None:
    assert (await world.run("use kira")).ok
    await world.reply(user="telegram:10")
    await world.reply(user="telegram:11")
    chats = await world.store.list_chat_ids(GROUP)
    assert set(chats) == {"telegram:10", "telegram:11"}
    assert len(set(chats.values())) == 2


async def test_channel_scope_gives_everyone_one_chat(world: World) -> None:
    assert (await world.run("use quiet")).ok
    await world.reply(user="telegram:10")
    await world.reply(user="telegram:11")
    chats = await world.store.list_chat_ids(GROUP)
    assert list(chats) == [EVERYONE]
    assert len(world.upstream.chats[chats[EVERYONE]]) == 4  # two messages, two replies, in one chat


async def test_unbind_returns_to_the_default_preset_with_a_new_chat(world: World) -> None:
    assert (await world.run("use quiet")).ok
    await world.reply()
    result = await world.run("unbind")
    assert result.ok and "ada answers here now" in result.text
    assert await world.store.get_binding(GROUP) is None
    assert await world.store.list_chat_ids(GROUP) == {}
    nothing = await world.run("unbind")
    assert nothing.ok and "Nothing is bound here" in nothing.text


async def test_character_binds_a_character_directly_with_default_settings(world: World) -> None:
    result = await world.run("zed-char", command="character")
    assert result.ok and result.greeting is not None and result.greeting.speaker == "Zed-Char"
    name = auto_preset_name("Zed-Char", "characterai", "zed-char")
    preset = await world.core.catalog.get(name)
    assert preset is not None
    assert (preset.character_id, preset.trigger, preset.scope, preset.display_name) == (
        "zed-char", "mention", "channel", "Zed-Char"
    )
    route = await world.core.router.resolve(request(user=MEMBER))
    assert route is not None and route.preset.name == name

    again = await world.run("zed-char", command="character", conversation="telegram:-300")
    assert again.ok
    created = [e for e in await world.store.list_audit(limit=50) if e.action == "create"]
    assert len(created) == 1  # the same character reuses its preset


async def test_character_refuses_unknown_characters(world: World) -> None:
    before = world.dump()
    result = await world.run("nobody-char", command="character")
    assert not result.ok
    assert result.text.splitlines() == [
        "characterai has no character 'nobody-char'.",
        "Usage: /character <character_id>",
    ]
    assert world.dump() == before


async def test_bindings_and_chats_survive_a_restart(world: World) -> None:
    assert (await world.run("create nova nova-char trigger=all", user=OWNER)).ok
    assert (await world.run("use nova")).ok
    await world.reply()
    chat_id = await world.store.get_chat_id(GROUP, EVERYONE)

    again = await world.reopen()
    try:
        route = await again.core.router.resolve(request(user=MEMBER))
        assert route is not None and (route.preset.name, route.preset.trigger, route.bound) == ("nova", "all", True)
        assert await again.store.get_chat_id(GROUP, EVERYONE) == chat_id
        history = await again.run("history", user=ADMIN)
        assert "use nova" in history.text
    finally:
        await again.close()


async def test_rebinding_forgets_a_chat_that_has_no_turns_yet(world: World) -> None:
    existing = await world.upstream.create_chat("quiet-char")
    assert (await world.run(f"use quiet {existing.chat_id}")).ok
    assert await world.store.get_conversation(GROUP, EVERYONE) is None  # resumed, nothing said here yet
    assert (await world.run("use quiet")).ok
    assert await world.store.list_chat_ids(GROUP) == {}
