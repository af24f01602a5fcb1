"""The ConversationStore contract: each (conversation, who)'s record and participants, listed most recently
updated first with filters by user, conversation and platform, and forgotten together with its upstream chat."""

from __future__ import annotations

from bot.ports import EVERYONE, ConversationStore
from tests.core.contracts.stores import StoreUnderTest, VirtualClock


async def test_conversation_records_count_list_and_delete(opened: StoreUnderTest, clock: VirtualClock) -> None:
    store: ConversationStore = opened.store
    await store.set_chat_id("http:team", "http:ann", "chat-1")
    await store.record_turn("http:team", "http:ann", "http:ann", "ada", "first reply")
    clock.advance(1)
    await store.record_turn("http:team", EVERYONE, "http:bob", "ada", "shared reply")
    clock.advance(1)
    await store.record_turn("http:dm:ann", EVERYONE, "http:ann", "kira", "hello ann")
    clock.advance(1)
    await store.record_turn("http:team", "http:ann", "http:ann", "ada", "second reply")

    again: ConversationStore = await opened.reopen()
    record = await again.get_conversation("http:team", "http:ann")
    assert record is not None
    assert (record.message_count, record.last_message, record.preset) == (4, "second reply", "ada")
    assert record.updated_at.timestamp() == clock.now  # the store's clock says when

    everything, total = await again.list_conversations()
    assert total == 3
    assert [(r.conversation, r.who) for r in everything] == [
        ("http:team", "http:ann"),
        ("http:dm:ann", EVERYONE),
        ("http:team", EVERYONE),
    ]
    anns, total = await again.list_conversations(user_id="http:ann", limit=1, offset=1)
    assert total == 2 and [r.conversation for r in anns] == ["http:dm:ann"]
    team_ann, total = await again.list_conversations(user_id="http:ann", conversation="http:team")
    assert total == 1 and team_ann[0].who == "http:ann"
    in_team, total = await again.list_conversations(conversation="http:team")
    assert total == 2 and {r.who for r in in_team} == {"http:ann", EVERYONE}

    assert await again.delete_conversation("http:team", "http:ann") is True
    assert await again.get_conversation("http:team", "http:ann") is None
    assert await again.get_chat_id("http:team", "http:ann") is None
    assert (await again.list_conversations(user_id="http:ann"))[1] == 1
    assert await again.delete_conversation("http:team", "http:ann") is False


async def listed(
    store: ConversationStore,
    user_id: str,
    conversation: str | None = None,
    platform: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[str], int]:
    """The conversation keys a listing gives, and its total."""
    records, total = await store.list_conversations(user_id, conversation, limit, offset, platform)
    return [r.conversation for r in records], total


async def test_a_user_keeps_every_conversation_they_spoke_in(opened: StoreUnderTest, clock: VirtualClock) -> None:
    """Not only those they spoke in last: somebody else speaking in a group must not hide it from them."""
    store: ConversationStore = opened.store
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "one")
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:2", "ada", "two")
    clock.advance(1)
    await store.record_turn("telegram:1", EVERYONE, "telegram:1", "ada", "a dm")
    clock.advance(1)
    await store.record_turn("telegram:-2", EVERYONE, "telegram:2", "ada", "elsewhere")

    assert await listed(store, user_id="telegram:1") == (["telegram:1", "telegram:-1"], 2)
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:3", "ada", "three")  # the group is newest again

    again: ConversationStore = await opened.reopen()
    assert await listed(again, user_id="telegram:1") == (["telegram:-1", "telegram:1"], 2)
    assert await listed(again, user_id="telegram:1", limit=1, offset=1) == (["telegram:1"], 2)
    assert await listed(again, user_id="telegram:2") == (["telegram:-1", "telegram:-2"], 2)
    assert await listed(again, user_id="telegram:3") == (["telegram:-1"], 1)
    assert await listed(again, user_id="telegram:1", conversation="telegram:-1") == (["telegram:-1"], 1)
    assert await listed(again, user_id="telegram:3", conversation="telegram:-2") == ([], 0)
    assert await listed(again, user_id="telegram:2", platform="telegram", limit=1) == (["telegram:-1"], 2)
    assert await listed(again, user_id="telegram:2", platform="discord") == ([], 0)
    record = await again.get_conversation("telegram:-1", EVERYONE)
    assert record is not None and (record.user_id, record.message_count) == ("telegram:3", 6)


async def test_a_deleted_conversation_forgets_its_participants(opened: StoreUnderTest, clock: VirtualClock) -> None:
    store: ConversationStore = opened.store
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "one")
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:2", "ada", "two")
    assert await store.delete_conversation("telegram:-1", EVERYONE) is True
    assert (await store.list_conversations(user_id="telegram:1"))[1] == 0
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:3", "ada", "anew")  # the same key, started over
    assert (await store.list_conversations(user_id="telegram:1"))[1] == 0
    assert (await store.list_conversations(user_id="telegram:2", conversation="telegram:-1"))[1] == 0
    assert (await store.list_conversations(user_id="telegram:3"))[1] == 1


async def test_conversations_filtered_by_platform(opened: StoreUnderTest, clock: VirtualClock) -> None:
    store: ConversationStore = opened.store
    await store.record_turn("http:team", EVERYONE, "http:ann", "ada", "one")
    clock.advance(1)
    await store.record_turn("httpx:odd", EVERYONE, "httpx:bob", "ada", "not http")
    clock.advance(1)
    await store.record_turn("telegram:-1", EVERYONE, "telegram:1", "ada", "two")
    clock.advance(1)
    await store.record_turn("http:dm:ann", EVERYONE, "http:ann", "ada", "three")
    http, total = await store.list_conversations(platform="http")
    assert total == 2 and [r.conversation for r in http] == ["http:dm:ann", "http:team"]
    page, total = await store.list_conversations(platform="http", limit=1, offset=1)
    assert total == 2 and [r.conversation for r in page] == ["http:team"]
    anns, total = await store.list_conversations(user_id="http:ann", platform="telegram")
    assert (anns, total) == ([], 0)
    assert (await store.list_conversations(platform="discord"))[1] == 0
