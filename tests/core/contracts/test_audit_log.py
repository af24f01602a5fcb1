"""The AuditLog contract: entries newest first, all of them or one conversation's, kept across restarts."""

from __future__ import annotations

from bot.models import AuditEntry
from bot.ports import AuditLog
from tests.core.contracts.stores import StoreUnderTest


async def test_audit_log_newest_first_and_per_conversation(opened: StoreUnderTest) -> None:
    store: AuditLog = opened.store
    for i in range(5):
        conversation = "telegram:-100" if i % 2 == 0 else "discord:1:2"
        await store.append_audit(AuditEntry(actor=f"user{i}", conversation=conversation, action=f"act{i}"))

    again: AuditLog = await opened.reopen()
    assert [e.action for e in await again.list_audit(limit=3)] == ["act4", "act3", "act2"]
    per_chat = await again.list_audit(limit=10, conversation="telegram:-100")
    assert [e.actor for e in per_chat] == ["user4", "user2", "user0"]
