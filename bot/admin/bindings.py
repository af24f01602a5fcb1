"""Binding a conversation to a preset (``/preset use``, ``/character``) and unbinding it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from bot.admin import render
from bot.admin.lookup import LookupFailed, look_up
from bot.admin.options import MAX_DISPLAY_NAME
from bot.admin.parse import USAGE, BindCharacter, UsePreset
from bot.admin.results import AdminResult, failed
from bot.bindings import Bindings, record
from bot.models import ChatRequest, Preset, ReplyFinal
from bot.npc import NpcService, cast_line
from bot.ports import AuditLog, PresetStore
from bot.presets import PresetCatalog
from bot.router import Router
from bot.service import ChatService
from bot.upstream.base import Upstream

DEFAULT_BACKEND: str = Preset.model_fields["backend"].default


def unknown_preset(name: str, usage: str) -> str:
    return f"No preset named '{name}' (/preset list shows them).\nUsage: {usage}"


def auto_preset_name(character_name: str, backend: str, character_id: str) -> str:
    """The preset ``/character`` makes: readable, and the same every time for the same character."""
    slug = re.sub(r"[^a-z0-9]+", "-", character_name.lower()).strip("-")[:20].strip("-") or "character"
    digest = hashlib.sha256(f"{backend}:{character_id}".encode()).hexdigest()[:6]
    return f"{slug}-{digest}"


class Binder:
    def __init__(
        self,
        presets: PresetStore,
        audit: AuditLog,
        catalog: PresetCatalog,
        binder: Bindings,
        service: ChatService,
        npc: NpcService,
        router: Router,
        upstreams: Mapping[str, Upstream],
    ) -> None:
        self._presets = presets
        self._audit = audit
        self._catalog = catalog
        self._bindings = binder
        self._service = service
        self._npc = npc
        self._router = router
        self._upstreams = upstreams

    async def use(self, request: ChatRequest, command: UsePreset) -> AdminResult:
        preset = await self._catalog.get(command.name)
        if preset is None:
            return failed(unknown_preset(command.name, USAGE["use"]))
        if command.chat_id is not None and preset.scope == "user" and not request.is_dm:
            return failed(
                f"{preset.name} keeps one chat per user here, so a single chat id cannot be resumed for "
                f"everyone; bind it without a chat id.\nUsage: {USAGE['use']}"
            )
        return await self._bind(request, preset, command.chat_id)

    async def character(self, request: ChatRequest, command: BindCharacter) -> AdminResult:
        try:
            info = await look_up(self._upstreams, DEFAULT_BACKEND, command.character_id)
        except LookupFailed as exc:
            usage = f"\nUsage: {USAGE['character']}" if exc.unknown_character else ""
            return failed(exc.message + usage)
        name = auto_preset_name(info.name, DEFAULT_BACKEND, command.character_id)
        preset = await self._catalog.get(name)
        if preset is None:
            preset = Preset(
                name=name,
                character_id=command.character_id,
                display_name=info.name[:MAX_DISPLAY_NAME] or None,
                avatar_url=info.avatar_url,
            )
            await self._presets.put_preset(preset)
            await record(self._audit, request, "create", f"{name}: character {command.character_id} (/character)")
        elif (preset.backend, preset.character_id) != (DEFAULT_BACKEND, command.character_id):
            return failed(f"The preset name {name} is taken by another character; use /preset create instead.")
        return await self._bind(request, preset, None)

    async def unbind(self, request: ChatRequest) -> AdminResult:
        binding = await self._bindings.unbind(request)
        if binding is None:
            return AdminResult(text="Nothing is bound here, so nothing changed.")
        route = await self._router.resolve(request)
        now = f"{route.preset.name} answers here now." if route is not None else "no character answers here now."
        return AdminResult(text=f"Unbound {binding.preset}; {now}")

    async def _bind(self, request: ChatRequest, preset: Preset, chat_id: str | None) -> AdminResult:
        await self._bindings.bind(request, preset, chat_id)
        text = render.bound(preset, chat_id)
        if preset.npcs:  # a cast: no single greeting; a group room is made now, so problems show at once
            problem = None if chat_id is not None else await self._npc.prepare(request)
            return AdminResult(text="\n".join(line for line in (text, cast_line(preset), problem) if line))
        if not preset.greeting or chat_id is not None:  # a resumed chat already has its beginning
            return AdminResult(text=text)
        route = await self._router.resolve(request)
        if route is None:
            return AdminResult(text=text)
        reply = await self._service.greeting(route)
        if not isinstance(reply, ReplyFinal):
            return AdminResult(text=f"{text}\nThe greeting could not be fetched: {reply.message}")
        greeting = reply.model_copy(update={"speaker": preset.display_name or reply.speaker})
        return AdminResult(text=text, greeting=greeting)
