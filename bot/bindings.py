"""Binding conversations to presets: the one place that writes a binding, forgets the conversation's old upstream
chats, and records the change in the audit log. The admin commands and the HTTP API both bind through here."""

from __future__ import annotations

from bot.models import AuditEntry, Binding, ChatRequest, Preset
from bot.npc.turns import RESUMED_ROOM
from bot.ports import EVERYONE, AuditLog, BindingStore, ChatIdStore
from bot.service import ChatService


async def record(audit: AuditLog, request: ChatRequest, action: str, detail: str, where: str | None = None) -> None:
    """Write one admin change to the audit log, by the request's user, in its conversation (or ``where``)."""
    await audit.append_audit(
        AuditEntry(
            actor=request.user_id,
            actor_name=request.user_name,
            conversation=where if where is not None else request.conversation_key,
            action=action,
            detail=detail,
        )
    )


class Bindings:
    def __init__(self, bindings: BindingStore, chats: ChatIdStore, audit: AuditLog, service: ChatService) -> None:
        self._bindings = bindings
        self._chats = chats
        self._audit = audit
        self._service = service

    async def bind(self, request: ChatRequest, preset: Preset, chat_id: str | None = None, via: str = "") -> None:
        """Bind the request's conversation to ``preset``, by the request's user. The conversation starts anew
        with it, or continues the upstream chat ``chat_id`` (an NPC room preset's group room)."""
        key = request.conversation_key
        await self._bindings.put_binding(Binding(conversation=key, preset=preset.name, bound_by=request.user_id))
        await self._service.forget(key)
        if chat_id is not None:
            await self._chats.set_chat_id(key, RESUMED_ROOM if preset.npcs and preset.room else EVERYONE, chat_id)
        detail = preset.name + (f" resuming chat {chat_id}" if chat_id else "") + (f" ({via})" if via else "")
        await record(self._audit, request, "use", detail)

    async def unbind(self, request: ChatRequest) -> Binding | None:
        """Remove the conversation's binding (back to the default); the removed binding, or None."""
        key = request.conversation_key
        binding = await self._bindings.get_binding(key)
        if binding is None:
            return None
        await self._bindings.delete_binding(key)
        await self._service.forget(key)
        await record(self._audit, request, "unbind", binding.preset)
        return binding

    async def drop(self, request: ChatRequest, binding: Binding, why: str) -> None:
        """Remove ``binding`` without forgetting chats (none are left), audited as the request's user."""
        await self._bindings.delete_binding(binding.conversation)
        await record(self._audit, request, "unbind", f"{binding.preset} ({why})", where=binding.conversation)
