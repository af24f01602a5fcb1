"""Small store operations shared by the admin commands."""

from __future__ import annotations

from bot.models import AuditEntry, ChatRequest
from bot.ports import StateStore


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
