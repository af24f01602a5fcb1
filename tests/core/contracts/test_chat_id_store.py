"""The ChatIdStore contract: one upstream chat id per (conversation, who), cleared per conversation."""

from __future__ import annotations

from bot.ports import EVERYONE, ChatIdStore
from tests.core.contracts.stores import StoreUnderTest


async def test_upstream_chat_ids_per_conversation_and_user(opened: StoreUnderTest) -> None:
    store: ChatIdStore = opened.store
    await store.set_chat_id("telegram:-100", "telegram:1", "chat-a")
    await store.set_chat_id("telegram:-100", "telegram:2", "chat-b")
    await store.set_chat_id("telegram:-100/7", EVERYONE, "chat-topic")
    await store.set_chat_id("telegram:-100", "telegram:1", "chat-a2")

    again: ChatIdStore = await opened.reopen()
    assert await again.get_chat_id("telegram:-100", "telegram:1") == "chat-a2"
    assert await again.list_chat_ids("telegram:-100") == {"telegram:1": "chat-a2", "telegram:2": "chat-b"}
    assert await again.clear_chat_ids("telegram:-100") == 2
    assert await again.get_chat_id("telegram:-100", "telegram:2") is None
    # clearing one conversation leaves its threads alone
    assert await again.get_chat_id("telegram:-100/7", EVERYONE) == "chat-topic"
    assert await again.clear_chat_ids("telegram:-100") == 0
