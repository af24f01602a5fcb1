"""Creating, changing and deleting presets (``/preset create``, ``set``, ``delete``)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.admin import render
from bot.admin.bindings import DEFAULT_BACKEND, unknown_preset
from bot.admin.lookup import LookupFailed, look_up
from bot.admin.options import MAX_DISPLAY_NAME, apply_changes, one_line
from bot.admin.parse import USAGE, CreatePreset, DeletePreset, SetOption
from bot.admin.permissions import Role, community_of
from bot.admin.results import AdminResult, failed
from bot.bindings import record
from bot.models import ChatRequest, Preset
from bot.ports import AuditLog, BindingStore, PresetStore
from bot.presets import PresetCatalog
from bot.service import ChatService
from bot.upstream.base import Upstream


class PresetEditor:
    def __init__(
        self,
        presets: PresetStore,
        bindings: BindingStore,
        audit: AuditLog,
        catalog: PresetCatalog,
        service: ChatService,
        upstreams: Mapping[str, Upstream],
        default_preset: str | None,
    ) -> None:
        self._presets = presets
        self._bindings = bindings
        self._audit = audit
        self._service = service
        self._catalog = catalog
        self._upstreams = upstreams
        self._default = default_preset

    async def create(self, request: ChatRequest, command: CreatePreset) -> AdminResult:
        usage = USAGE["create"]
        if await self._catalog.get(command.name) is not None:
            return failed(f"A preset named {command.name} already exists; change it with /preset set.\nUsage: {usage}")
        try:
            info = await look_up(self._upstreams, DEFAULT_BACKEND, command.character_id)
        except LookupFailed as exc:
            return failed(exc.message + (f"\nUsage: {usage}" if exc.unknown_character else ""))
        given = {change.key for change in command.changes}
        base = Preset(
            name=command.name,
            character_id=command.character_id,
            display_name=None if "display_name" in given else info.name[:MAX_DISPLAY_NAME] or None,
            avatar_url=None if "avatar_url" in given else info.avatar_url,
        )
        try:
            preset = apply_changes(base, command.changes)
        except ValueError as exc:  # pydantic's ValidationError included
            return failed(f"Those options do not fit together: {one_line(exc)}.\nUsage: {usage}")
        await self._presets.put_preset(preset)
        options = "".join(f" {change.describe()}" for change in command.changes)
        await record(self._audit, request, "create", f"{preset.name}: character {preset.character_id}{options}")
        return AdminResult(text=f"Created {render.preset_label(preset)}: {preset.backend} {preset.character_id}.")

    async def set(self, request: ChatRequest, command: SetOption, role: Role) -> AdminResult:
        current = await self._catalog.get(command.name)
        if current is None:
            return failed(unknown_preset(command.name, USAGE["set"]))
        refusal = await self.outside_reach(request, command.name, role, "change")
        if refusal is not None:
            return failed(refusal)
        try:
            updated = apply_changes(current, [command.change])
        except ValueError as exc:
            return failed(f"{command.change.key}: {one_line(exc)}.\nUsage: {USAGE['set']}")
        if updated == current:
            return AdminResult(text=f"{command.name} already has {command.change.describe()}; nothing changed.")
        overrides_file = await self._presets.get_preset(command.name) is None
        await self._presets.put_preset(updated)
        await record(self._audit, request, "set", f"{command.name} {command.change.describe()}")
        note = " (a stored copy now overrides the config file's version)" if overrides_file else ""
        return AdminResult(text=f"Set {command.change.describe()} on {command.name}{note}.")

    async def delete(self, request: ChatRequest, command: DeletePreset, role: Role) -> AdminResult:
        name = command.name
        stored = await self._presets.get_preset(name)
        in_file = self._catalog.from_file(name) is not None
        if stored is None:
            if in_file:
                return failed(f"{name} lives in the config file; remove it there (only admin-made presets go here).")
            return failed(unknown_preset(name, USAGE["delete"]))
        refusal = await self.outside_reach(request, name, role, "delete")
        if refusal is not None:
            return failed(refusal)
        if in_file:
            await self._presets.delete_preset(name)
            await record(self._audit, request, "delete", f"{name} (override; the config file's version applies)")
            return AdminResult(text=f"Deleted the stored copy of {name}; the config file's version applies again.")
        bound_in = await self._bound_in(name)
        if bound_in and not command.force:
            return failed(
                f"{name} is bound in {render.places(bound_in)}; add 'force' to delete it and unbind those.\n"
                f"Usage: {USAGE['delete']}"
            )
        for conversation in bound_in:
            await self._bindings.delete_binding(conversation)
            await self._service.forget(conversation)
            await record(self._audit, request, "unbind", f"{name} (preset deleted)", where=conversation)
        await self._presets.delete_preset(name)
        await record(self._audit, request, "delete", name)
        unbound = f" and unbound it from {render.places(bound_in)}" if bound_in else ""
        return AdminResult(text=f"Deleted {name}{unbound}.")

    async def _bound_in(self, name: str) -> list[str]:
        return [b.conversation for b in await self._bindings.list_bindings() if b.preset == name]

    async def outside_reach(self, request: ChatRequest, name: str, role: Role, verb: str) -> str | None:
        """Why a platform admin may not touch this preset (it is used beyond their server/chat), or None."""
        if role is Role.OWNER:
            return None
        if name == self._default:
            return f"{name} is the default preset for every chat; only a bot owner can {verb} it."
        here = community_of(request.conversation_key)
        elsewhere = [c for c in await self._bound_in(name) if community_of(c) != here]
        if elsewhere:
            return f"{name} is also used outside this server or chat; only a bot owner can {verb} it."
        return None
