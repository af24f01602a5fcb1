"""The cast of NPC presets (``/preset npc list|add|remove|set``): who is in it and how it behaves.

The first ``add`` on a plain preset makes it an NPC preset whose cast starts with the preset's own
character. A changed cast gets a new group room with the next message (the room is keyed by its cast);
one-on-one NPC chats are kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bot.admin.bindings import DEFAULT_BACKEND, unknown_preset
from bot.admin.lookup import LookupFailed, look_up
from bot.admin.options import MAX_DISPLAY_NAME, one_line
from bot.admin.parse import USAGE, AddNpc, ListCast, RemoveNpc, SetNpcOption
from bot.admin.permissions import Role
from bot.admin.results import AdminResult, failed
from bot.bindings import record
from bot.models import ChatRequest, NpcCharacter, Preset
from bot.npc import MAX_CAST, cast_line
from bot.npc.cast import by_id, by_name
from bot.ports import AuditLog, PresetStore
from bot.presets import PresetCatalog
from bot.upstream.base import Upstream

# (request, preset name, role, verb) -> why this admin may not change the preset, or None
Reach = Callable[[ChatRequest, str, Role, str], Awaitable[str | None]]


def cast_details(preset: Preset) -> str:
    if not preset.npcs:
        return f"{preset.name} has no cast; add one with {USAGE['npc add']}."
    members = [f"- {n.name}: {n.character_id}{'' if n.avatar_url is None else ' (avatar)'}" for n in preset.npcs]
    notice = "never" if preset.queue_notice_after is None else f"after {preset.queue_notice_after:g}s"
    scenes = f"on (after {preset.scene_delay:g}s, up to {preset.scene_max_turns} turns)" if preset.scenes else "off"
    return "\n".join(
        [
            f"{preset.name}: {cast_line(preset)}",
            *members,
            f"unaddressed messages: {preset.fallback}; merge queued messages: {'on' if preset.merge_queued else 'off'}"
            f"; queue notice: {notice}; scenes: {scenes}",
        ]
    )


class CastEditor:
    def __init__(
        self,
        presets: PresetStore,
        audit: AuditLog,
        catalog: PresetCatalog,
        upstreams: Mapping[str, Upstream],
        reach: Reach,
    ) -> None:
        self._presets = presets
        self._audit = audit
        self._catalog = catalog
        self._upstreams = upstreams
        self._reach = reach

    async def show(self, command: ListCast) -> AdminResult:
        preset = await self._catalog.get(command.name)
        if preset is None:
            return failed(unknown_preset(command.name, USAGE["npc list"]))
        return AdminResult(text=cast_details(preset))

    async def add(self, request: ChatRequest, command: AddNpc, role: Role) -> AdminResult:
        usage = USAGE["npc add"]
        preset, refusal = await self._editable(request, command.name, role, usage)
        if preset is None:
            return failed(refusal or "")
        cast = list(preset.npcs) or await self._seed(preset)
        if by_id(cast, command.character_id) is not None:
            return failed(f"{command.character_id} is already in the cast of {preset.name}.\nUsage: {usage}")
        if len(cast) >= MAX_CAST:
            return failed(f"A cast holds at most {MAX_CAST} characters; remove one first.")
        try:
            info = await look_up(self._upstreams, DEFAULT_BACKEND, command.character_id)
        except LookupFailed as exc:
            return failed(exc.message + (f"\nUsage: {usage}" if exc.unknown_character else ""))
        name = command.npc_name or info.name[:MAX_DISPLAY_NAME] or command.character_id
        if by_name(cast, name) is not None:
            return failed(f"The cast of {preset.name} already has a {name}; give another name.\nUsage: {usage}")
        added = NpcCharacter(character_id=command.character_id, name=name, avatar_url=info.avatar_url)
        updated = preset.model_copy(update={"npcs": [*cast, added], "character_id": cast[0].character_id})
        await self._save(request, updated, f"{preset.name}: npc add {added.character_id} as {added.name}")
        return AdminResult(text=f"Added {added.name} to {preset.name}. {cast_line(updated)}")

    async def remove(self, request: ChatRequest, command: RemoveNpc, role: Role) -> AdminResult:
        usage = USAGE["npc remove"]
        preset, refusal = await self._editable(request, command.name, role, usage)
        if preset is None:
            return failed(refusal or "")
        gone = by_name(preset.npcs, command.npc_name) or by_id(preset.npcs, command.npc_name)
        if gone is None:
            names = ", ".join(n.name for n in preset.npcs) or "nobody"
            return failed(f"{preset.name} has no cast member '{command.npc_name}' (cast: {names}).\nUsage: {usage}")
        rest = [n for n in preset.npcs if n.character_id != gone.character_id]
        character_id = rest[0].character_id if rest else gone.character_id
        updated = preset.model_copy(update={"npcs": rest, "character_id": character_id})
        await self._save(request, updated, f"{preset.name}: npc remove {gone.character_id} ({gone.name})")
        now = cast_line(updated) if rest else f"{preset.name} is a one-character preset again ({character_id})."
        return AdminResult(text=f"Removed {gone.name} from {preset.name}. {now}")

    async def set(self, request: ChatRequest, command: SetNpcOption, role: Role) -> AdminResult:
        usage = USAGE["npc set"]
        preset, refusal = await self._editable(request, command.name, role, usage)
        if preset is None:
            return failed(refusal or "")
        data = preset.model_dump()
        default = Preset.model_fields[command.key].get_default(call_default_factory=True)
        data[command.key] = default if command.reset else command.value
        try:
            updated = Preset.model_validate(data)
        except ValueError as exc:
            return failed(f"{command.key}: {one_line(exc)}.\nUsage: {usage}")
        if updated == preset:
            return AdminResult(text=f"{preset.name} already has {command.describe()}; nothing changed.")
        await self._save(request, updated, f"{preset.name} npc {command.describe()}")
        return AdminResult(text=f"Set {command.describe()} on {preset.name}.")

    async def _editable(
        self, request: ChatRequest, name: str, role: Role, usage: str
    ) -> tuple[Preset | None, str | None]:
        preset = await self._catalog.get(name)
        if preset is None:
            return None, unknown_preset(name, usage)
        refusal = await self._reach(request, name, role, "change")
        if refusal is not None:
            return None, refusal
        return preset, None

    async def _seed(self, preset: Preset) -> list[NpcCharacter]:
        """A plain preset's own character, as the first member of its new cast."""
        if not preset.character_id:
            return []
        name = preset.display_name
        if name is None:
            try:
                name = (await look_up(self._upstreams, preset.backend, preset.character_id)).name[:MAX_DISPLAY_NAME]
            except LookupFailed:
                name = preset.character_id
        return [NpcCharacter(character_id=preset.character_id, name=name or preset.name, avatar_url=preset.avatar_url)]

    async def _save(self, request: ChatRequest, preset: Preset, detail: str) -> None:
        await self._presets.put_preset(preset)
        await record(self._audit, request, "npc", detail)
