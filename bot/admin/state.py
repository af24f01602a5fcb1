"""Small store operations shared by the admin commands."""

from __future__ import annotations

from bot.models import AuditEntry, ChatRequest
from bot.ports import StateStore

_PAGE = 200


async def forget_chats(store: StateStore, conversation: str) -> None:
    """Forget every upstream chat of a conversation and its activity records, so the next message starts a
    new chat (as ChatService.reset does for one chat)."""
    while True:
        records, _ = await store.list_conversations(conversation=conversation, limit=_PAGE)
        if not records:
            break
        deleted = [await store.delete_conversation(r.conversation, r.who) for r in records]
        if not any(deleted):
            break  # nothing more can go; never loop on a store that keeps returning the same page
    await store.clear_chat_ids(conversation)


async def record(store: StateStore, request: ChatRequest, action: str, detail: str, where: str | None = None) -> None:
    await store.append_audit(
        AuditEntry(
            actor=request.user_id,
            actor_name=request.user_name,
            conversation=where if where is not None else request.conversation_key,
            action=action,
            detail=detail,
        )
    )
